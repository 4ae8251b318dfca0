// Charts as inline SVG text, drawn on the server side so that the HTML report needs no
// network and no chart library. Every piece of text is escaped here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace joulebench::report {

// &, <, >, " and ' as entities: safe in element content and in quoted attributes.
std::string HtmlEscape(std::string_view text);

struct ChartSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // NaN breaks the line
  bool dashed = false;
  bool markers = false;  // draw a dot at each point
  bool line = true;      // false: markers only (a scatter)
  int color = 0;         // index into the palette
};

// A shaded span of the x axis (warm-up, measurement window).
struct ChartBand {
  double x0 = 0;
  double x1 = 0;
  std::string label;
  std::string css_class;  // "band-warmup", "band-measurement", "band-baseline"
};

struct LineChart {
  std::string id;  // element id of the figure, e.g. "chart-power"
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartSeries> series;
  std::vector<ChartBand> bands;
  std::optional<std::pair<double, std::string>> y_reference;  // horizontal line and its label
  bool y_from_zero = true;
};

struct BarSegment {
  std::string name;  // stack member (e.g. a domain); same name, same colour
  double value = 0;
};

struct Bar {
  std::string label;
  std::vector<BarSegment> segments;  // stacked bottom to top
  std::string annotation;            // printed above the bar (e.g. "-82 %")
};

struct BarChart {
  std::string id;
  std::string title;
  std::string y_label;
  std::vector<Bar> bars;
};

// <figure id=...> with the title, the SVG and a legend. A chart with no drawable point
// renders as a figure with a "no data" note (class "empty").
std::string RenderLineChart(const LineChart& chart);
std::string RenderBarChart(const BarChart& chart);

// Number of drawable points in a chart (what the report's test asserts is non-zero).
std::size_t DrawablePoints(const LineChart& chart);

}  // namespace joulebench::report
