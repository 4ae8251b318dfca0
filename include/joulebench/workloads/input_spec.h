// Input specs of user TorchScript models: "name:dtype[d0,d1,...]", e.g.
// "input_ids:int64[8,512]", "bbox:int64[8,512,4]", "pixel_values:float32[1,3,224,224]".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::workloads {

struct InputSpec {
  std::string name;
  std::string dtype;                // int64, int32, float32, float16, bfloat16, bool
  std::vector<std::int64_t> shape;  // every dimension >= 1; [] = a scalar
  std::int64_t element_count() const;
};

// Throws InputError naming the spec, what is wrong and the accepted form.
InputSpec ParseInputSpec(std::string_view text);

}  // namespace joulebench::workloads
