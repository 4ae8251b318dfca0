#include "report/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace joulebench::report {
namespace {

constexpr double kWidth = 860;
constexpr double kHeight = 320;
constexpr double kLeft = 72;
constexpr double kRight = 18;
constexpr double kTop = 16;
constexpr double kBottom = 46;

// Tableau 10: distinguishable, and readable by most colour-blind viewers.
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

const char* Color(int index) {
  return kPalette[static_cast<std::size_t>(std::abs(index)) % std::size(kPalette)];
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

// Round tick step (1, 2 or 5 times a power of ten) giving about `target` ticks.
double NiceStep(double span, int target) {
  if (!(span > 0)) return 1;
  double raw = span / target;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double residual = raw / magnitude;
  double nice = residual < 1.5 ? 1 : residual < 3.5 ? 2 : residual < 7.5 ? 5 : 10;
  return nice * magnitude;
}

// Widens a range to whole ticks; a zero-width range gets some room.
Range Nice(Range r, bool from_zero) {
  if (!r.valid()) return {0, 1};
  if (from_zero) {
    r.lo = std::min(r.lo, 0.0);
    r.hi = std::max(r.hi, 0.0);
  }
  if (r.hi == r.lo) {
    double pad = r.hi == 0 ? 1 : std::abs(r.hi) * 0.1;
    r.lo -= pad;
    r.hi += pad;
  }
  double step = NiceStep(r.hi - r.lo, 5);
  return {std::floor(r.lo / step) * step, std::ceil(r.hi / step) * step};
}

std::string Tick(double v) {
  if (v == 0) return "0";
  double a = std::abs(v);
  if (a >= 1e6 || a < 1e-3) return fmt::format("{:.3g}", v);
  return fmt::format("{:.6g}", v);
}

struct Frame {
  Range x, y;
  double X(double v) const {
    return kLeft + (v - x.lo) / (x.hi - x.lo) * (kWidth - kLeft - kRight);
  }
  double Y(double v) const {
    return kHeight - kBottom - (v - y.lo) / (y.hi - y.lo) * (kHeight - kTop - kBottom);
  }
};

std::string Axes(const Frame& f, const std::string& x_label, const std::string& y_label,
                 bool x_ticks) {
  std::string out;
  double step = NiceStep(f.y.hi - f.y.lo, 5);
  for (double v = f.y.lo; v <= f.y.hi + step * 1e-6; v += step) {
    out += fmt::format(
        "<line class=\"grid\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>"
        "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
        kLeft, kWidth - kRight, f.Y(v), f.Y(v), kLeft - 6, f.Y(v) + 4, Tick(v));
  }
  if (x_ticks) {
    double xstep = NiceStep(f.x.hi - f.x.lo, 8);
    for (double v = std::ceil(f.x.lo / xstep) * xstep; v <= f.x.hi + xstep * 1e-6; v += xstep) {
      out += fmt::format(
          "<line class=\"axis\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>"
          "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>",
          f.X(v), kHeight - kBottom, kHeight - kBottom + 5, kHeight - kBottom + 18, Tick(v));
    }
  }
  out += fmt::format(
      "<line class=\"axis\" x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>"
      "<line class=\"axis\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{3:.1f}\" y2=\"{2:.1f}\"/>",
      kLeft, kWidth - kRight, kHeight - kBottom, kTop);
  out += fmt::format(
      "<text class=\"label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
      (kLeft + kWidth - kRight) / 2, kHeight - 8, HtmlEscape(x_label));
  out += fmt::format(
      "<text class=\"label\" transform=\"translate(16,{:.1f}) rotate(-90)\" "
      "text-anchor=\"middle\">{}</text>",
      (kTop + kHeight - kBottom) / 2, HtmlEscape(y_label));
  return out;
}

std::string Legend(const std::vector<std::pair<std::string, int>>& entries, bool dashed_hint,
                   const std::vector<bool>& dashed) {
  std::string out = "<ul class=\"legend\">";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    out += fmt::format(
        "<li data-series=\"{}\"><span class=\"swatch{}\" style=\"background:{}\"></span>{}</li>", i,
        dashed_hint && dashed[i] ? " dashed" : "", Color(entries[i].second),
        HtmlEscape(entries[i].first));
  }
  return out + "</ul>";
}

std::string Empty(const std::string& id, const std::string& title, const std::string& note) {
  return fmt::format(
      "<figure class=\"chart empty\" id=\"{}\"><figcaption>{}</figcaption><p class=\"note\">{}</p>"
      "</figure>\n",
      HtmlEscape(id), HtmlEscape(title), HtmlEscape(note));
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::size_t DrawablePoints(const LineChart& chart) {
  std::size_t n = 0;
  for (const auto& s : chart.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) ++n;
    }
  }
  return n;
}

std::string RenderLineChart(const LineChart& chart) {
  std::size_t points = DrawablePoints(chart);
  if (points == 0) return Empty(chart.id, chart.title, "No data for this chart in these runs.");
  Range x, y;
  for (const auto& s : chart.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        x.Add(s.x[i]);
        y.Add(s.y[i]);
      }
    }
  }
  for (const auto& b : chart.bands) {
    x.Add(b.x0);
    x.Add(b.x1);
  }
  if (chart.y_reference) y.Add(chart.y_reference->first);
  if (x.hi == x.lo) {
    x.lo -= 0.5;
    x.hi += 0.5;
  }
  Frame f{x, Nice(y, chart.y_from_zero)};
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
      kWidth, kHeight, kWidth, kHeight, HtmlEscape(chart.title));
  for (std::size_t bi = 0; bi < chart.bands.size(); ++bi) {
    const auto& b = chart.bands[bi];
    double x0 = f.X(std::max(b.x0, x.lo)), x1 = f.X(std::min(b.x1, x.hi));
    // Labels of neighbouring bands are staggered so that narrow bands stay readable.
    double label_y = kTop + 11 + 12 * static_cast<double>(bi % 3);
    svg += fmt::format(
        "<rect class=\"band {}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\">"
        "<title>{}</title></rect><text class=\"band-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>",
        HtmlEscape(b.css_class), x0, kTop, std::max(0.0, x1 - x0), kHeight - kTop - kBottom,
        HtmlEscape(b.label), x0 + 3, label_y, HtmlEscape(b.label));
  }
  svg += Axes(f, chart.x_label, chart.y_label, true);
  if (chart.y_reference) {
    double yy = f.Y(chart.y_reference->first);
    svg += fmt::format(
        "<line class=\"reference\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>"
        "<text class=\"band-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
        kLeft, kWidth - kRight, yy, yy, kWidth - kRight - 4, yy - 4,
        HtmlEscape(chart.y_reference->second));
  }
  std::vector<std::pair<std::string, int>> legend;
  std::vector<bool> dashed;
  for (std::size_t si = 0; si < chart.series.size(); ++si) {
    const auto& s = chart.series[si];
    svg += fmt::format("<g class=\"series\" data-series=\"{}\">", si);
    if (s.line) {
      std::string d;
      bool pen_down = false;
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
          pen_down = false;
          continue;
        }
        d += fmt::format("{}{:.1f},{:.1f}", pen_down ? "L" : "M", f.X(s.x[i]), f.Y(s.y[i]));
        pen_down = true;
      }
      if (!d.empty()) {
        svg += fmt::format("<path class=\"line{}\" stroke=\"{}\" d=\"{}\"/>",
                           s.dashed ? " dashed" : "", Color(s.color), d);
      }
    }
    if (s.markers || !s.line) {
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        svg += fmt::format(
            "<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"><title>{}: "
            "{}, {}</title></circle>",
            f.X(s.x[i]), f.Y(s.y[i]), Color(s.color), HtmlEscape(s.name), Tick(s.x[i]),
            Tick(s.y[i]));
      }
    }
    svg += "</g>";
    legend.emplace_back(s.name, s.color);
    dashed.push_back(s.dashed);
  }
  svg += "</svg>";
  return fmt::format(
      "<figure class=\"chart\" id=\"{}\" data-points=\"{}\"><figcaption>{}</figcaption>{}{}"
      "</figure>\n",
      HtmlEscape(chart.id), points, HtmlEscape(chart.title), svg, Legend(legend, true, dashed));
}

std::string RenderBarChart(const BarChart& chart) {
  std::size_t drawable = 0;
  Range y;
  y.Add(0);
  for (const auto& bar : chart.bars) {
    double top = 0, bottom = 0;
    for (const auto& seg : bar.segments) {
      if (!std::isfinite(seg.value)) continue;
      ++drawable;
      (seg.value >= 0 ? top : bottom) += seg.value;
    }
    y.Add(top);
    y.Add(bottom);
  }
  if (drawable == 0) return Empty(chart.id, chart.title, "No data for this chart in these runs.");
  Frame f{{0, 1}, Nice(y, true)};
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
      kWidth, kHeight, kWidth, kHeight, HtmlEscape(chart.title));
  svg += Axes(f, "", chart.y_label, false);
  std::map<std::string, int> colors;
  std::vector<std::pair<std::string, int>> legend;
  for (const auto& bar : chart.bars) {
    for (const auto& seg : bar.segments) {
      if (colors.emplace(seg.name, static_cast<int>(colors.size())).second) {
        legend.emplace_back(seg.name, colors[seg.name]);
      }
    }
  }
  double plot_width = kWidth - kLeft - kRight;
  double slot = plot_width / static_cast<double>(chart.bars.size());
  double width = std::min(90.0, slot * 0.6);
  for (std::size_t b = 0; b < chart.bars.size(); ++b) {
    const auto& bar = chart.bars[b];
    double cx = kLeft + slot * (static_cast<double>(b) + 0.5);
    double up = 0, down = 0;
    double top_y = f.Y(0);
    for (const auto& seg : bar.segments) {
      if (!std::isfinite(seg.value)) continue;
      double from = seg.value >= 0 ? up : down;
      double to = from + seg.value;
      (seg.value >= 0 ? up : down) = to;
      double y0 = f.Y(std::max(from, to)), y1 = f.Y(std::min(from, to));
      top_y = std::min(top_y, y0);
      svg += fmt::format(
          "<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
          "fill=\"{}\" data-series=\"{}\"><title>{}: {}</title></rect>",
          cx - width / 2, y0, width, std::max(0.5, y1 - y0), Color(colors[seg.name]),
          colors[seg.name], HtmlEscape(bar.label + " - " + seg.name), Tick(seg.value));
    }
    std::string label = bar.label.size() > 28 ? bar.label.substr(0, 27) + "~" : bar.label;
    svg += fmt::format(
        "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", cx,
        kHeight - kBottom + 16, HtmlEscape(label));
    std::string annotation = bar.annotation.empty() ? Tick(up + down) : bar.annotation;
    svg += fmt::format(
        "<text class=\"value\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", cx,
        top_y - 5, HtmlEscape(annotation));
  }
  svg += "</svg>";
  std::vector<bool> dashed(legend.size(), false);
  return fmt::format(
      "<figure class=\"chart\" id=\"{}\" data-points=\"{}\"><figcaption>{}</figcaption>{}{}"
      "</figure>\n",
      HtmlEscape(chart.id), drawable, HtmlEscape(chart.title), svg,
      legend.size() > 1 ? Legend(legend, false, dashed) : "");
}

}  // namespace joulebench::report
