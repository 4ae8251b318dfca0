/* An NVML from before driver 450: nvmlInit instead of nvmlInit_v2, no
 * nvmlDeviceGetArchitecture and no energy counter. Same control file as fake_nvml.c. */
#define FAKE_NVML_OLD 1
#include "fake_nvml.c"
