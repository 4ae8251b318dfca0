/* A fake libnvidia-ml.so for tests: exports the NVML functions joulebench looks up, with the
 * ABI of the NVML API reference (int return codes, opaque device pointers). Tests load it
 * through the same dlopen path as the real library.
 *
 * Scripted by a control file whose path is in $JOULEBENCH_FAKE_NVML_CONFIG, one key=value a
 * line (# starts a comment). The file is read at nvmlInit and again at every power/energy call,
 * so a test can rewrite it between reads.
 *   init=<code>             return code of nvmlInit (default 0 = NVML_SUCCESS)
 *   driver=<version>        nvmlSystemGetDriverVersion (default 550.54.15)
 *   count=<n>               number of GPUs (default 0); count_error=<code>
 *   count_reported=<n>      what nvmlDeviceGetCount says instead (a broken driver's count)
 *   log=<path>              append "init", "shutdown" to this file when they are called
 *   gpu<i>.name=... gpu<i>.uuid=... gpu<i>.arch=<NVML_DEVICE_ARCH_* number>
 *   gpu<i>.name_unterminated=1  nvmlDeviceGetName fills the whole buffer, without a NUL
 *   gpu<i>.handle_error=<code>
 *   gpu<i>.energy_mj=<n>    total energy counter; gpu<i>.energy_step_mj=<n> is added per call
 *   gpu<i>.energy_error=<code>  e.g. 3 (NVML_ERROR_NOT_SUPPORTED) forces the power-gauge path
 *   gpu<i>.power_mw=<n>  gpu<i>.power_error=<code>  gpu<i>.limit_mw=<n>
 *   gpu<i>.limit_min_mw=<n> gpu<i>.limit_max_mw=<n>  the power-limit range (constraints)
 *   gpu<i>.set_limit_error=<code>  e.g. 4 (NVML_ERROR_NO_PERMISSION): setting is refused
 * The limit a caller sets (nvmlDeviceSetPowerManagementLimit) stays set until nvmlInit and is
 * logged as "set_limit gpu<i> <mW>"; before any set, the configured limit is limit_mw.
 *
 * $JOULEBENCH_FAKE_NVML_LOST_AFTER=<n> (or <gpu>:<n> for one GPU): after n power or energy
 * calls on a GPU (the probe's included), every later one returns NVML_ERROR_GPU_IS_LOST (15),
 * as a GPU that fell off the bus does.
 *
 * Compiled a second time as fake_nvml_old.c with FAKE_NVML_OLD defined: an NVML from before
 * the _v2 entry points, nvmlDeviceGetArchitecture and the energy counter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX_GPUS 8

typedef struct nvmlDevice_st* nvmlDevice_t;

struct FakeGpu {
  char name[96];
  char uuid[96];
  int name_unterminated;
  unsigned int arch;
  int handle_error;
  unsigned long long energy_mj;
  unsigned long long energy_step_mj;
  int energy_error;
  unsigned int power_mw;
  int power_error;
  unsigned int limit_mw;
  int has_limit;
  unsigned int limit_min_mw;
  unsigned int limit_max_mw;
  int set_limit_error;
  unsigned long long energy_calls;
  /* Kept across re-reads of the control file: what a caller set. */
  unsigned int set_limit_mw;
  int limit_was_set;
  unsigned long long reading_calls; /* power and energy calls, for LOST_AFTER */
};

static struct {
  int initialised;
  int init_code;
  char driver[80];
  unsigned int count;
  unsigned int count_reported;
  int has_count_reported;
  int count_error;
  char log[512];
  struct FakeGpu gpu[FAKE_MAX_GPUS];
} g_fake;

static void Log(const char* what) {
  if (!g_fake.log[0]) return;
  FILE* f = fopen(g_fake.log, "a");
  if (!f) return;
  fprintf(f, "%s\n", what);
  fclose(f);
}

static void CopyString(char* dst, size_t size, const char* src) {
  strncpy(dst, src, size - 1);
  dst[size - 1] = '\0';
}

/* Reads the control file. At nvmlInit (`full`) everything starts from the defaults; at a
 * re-read the script's values start from zero again (a key left out means 0) while the names,
 * the call counters and the initialised state are kept. */
static void LoadConfig(int full) {
  if (full) {
    memset(&g_fake, 0, sizeof g_fake);
    for (int i = 0; i < FAKE_MAX_GPUS; ++i) {
      snprintf(g_fake.gpu[i].name, sizeof g_fake.gpu[i].name, "Fake GPU %d", i);
      snprintf(g_fake.gpu[i].uuid, sizeof g_fake.gpu[i].uuid,
               "GPU-00000000-0000-0000-0000-00000000000%d", i);
    }
  }
  CopyString(g_fake.driver, sizeof g_fake.driver, "550.54.15");
  g_fake.init_code = 0;
  g_fake.count_error = 0;
  g_fake.has_count_reported = 0;
  for (int i = 0; i < FAKE_MAX_GPUS; ++i) {
    struct FakeGpu* g = &g_fake.gpu[i];
    g->arch = 7;
    g->handle_error = 0;
    g->energy_mj = 0;
    g->energy_step_mj = 0;
    g->energy_error = 0;
    g->power_mw = 0;
    g->power_error = 0;
    g->limit_mw = 0;
    g->has_limit = 0;
    g->limit_min_mw = 0;
    g->limit_max_mw = 0;
    g->set_limit_error = 0;
  }
  const char* path = getenv("JOULEBENCH_FAKE_NVML_CONFIG");
  if (!path) return;
  FILE* f = fopen(path, "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '#' || !strchr(line, '=')) continue;
    char* value = strchr(line, '=');
    *value++ = '\0';
    const char* key = line;
    if (!strcmp(key, "init")) {
      g_fake.init_code = atoi(value);
    } else if (!strcmp(key, "driver")) {
      CopyString(g_fake.driver, sizeof g_fake.driver, value);
    } else if (!strcmp(key, "count")) {
      g_fake.count = (unsigned int)atoi(value);
      if (g_fake.count > FAKE_MAX_GPUS) g_fake.count = FAKE_MAX_GPUS;
    } else if (!strcmp(key, "count_reported")) {
      g_fake.count_reported = (unsigned int)strtoul(value, NULL, 10);
      g_fake.has_count_reported = 1;
    } else if (!strcmp(key, "count_error")) {
      g_fake.count_error = atoi(value);
    } else if (!strcmp(key, "log")) {
      CopyString(g_fake.log, sizeof g_fake.log, value);
    } else if (!strncmp(key, "gpu", 3)) {
      char* dot = NULL;
      long i = strtol(key + 3, &dot, 10);
      if (!dot || *dot != '.' || i < 0 || i >= FAKE_MAX_GPUS) continue;
      struct FakeGpu* g = &g_fake.gpu[i];
      const char* field = dot + 1;
      if (!strcmp(field, "name") && full) CopyString(g->name, sizeof g->name, value);
      if (!strcmp(field, "uuid") && full) CopyString(g->uuid, sizeof g->uuid, value);
      if (!strcmp(field, "name_unterminated") && full) g->name_unterminated = atoi(value);
      if (!strcmp(field, "arch")) g->arch = (unsigned int)strtoul(value, NULL, 0);
      if (!strcmp(field, "handle_error")) g->handle_error = atoi(value);
      if (!strcmp(field, "energy_mj")) g->energy_mj = strtoull(value, NULL, 10);
      if (!strcmp(field, "energy_step_mj")) g->energy_step_mj = strtoull(value, NULL, 10);
      if (!strcmp(field, "energy_error")) g->energy_error = atoi(value);
      if (!strcmp(field, "power_mw")) g->power_mw = (unsigned int)strtoul(value, NULL, 10);
      if (!strcmp(field, "power_error")) g->power_error = atoi(value);
      if (!strcmp(field, "limit_min_mw")) g->limit_min_mw = (unsigned int)strtoul(value, NULL, 10);
      if (!strcmp(field, "limit_max_mw")) g->limit_max_mw = (unsigned int)strtoul(value, NULL, 10);
      if (!strcmp(field, "set_limit_error")) g->set_limit_error = atoi(value);
      if (!strcmp(field, "limit_mw")) {
        g->limit_mw = (unsigned int)strtoul(value, NULL, 10);
        g->has_limit = 1;
      }
    }
  }
  fclose(f);
}

/* Device handles are 1-based indices disguised as pointers. */
static struct FakeGpu* Gpu(nvmlDevice_t device) {
  const size_t i = (size_t)device;
  if (i == 0 || i > g_fake.count) return NULL;
  return &g_fake.gpu[i - 1];
}

/* Reference counted as NVML's own: a second nvmlInit (two users in one process) keeps the
 * state; the last nvmlShutdown ends it. */
/* Counts a power or energy call on `g`; true when $JOULEBENCH_FAKE_NVML_LOST_AFTER says the GPU
 * is lost by now. */
static int LostNow(struct FakeGpu* g) {
  ++g->reading_calls;
  const char* spec = getenv("JOULEBENCH_FAKE_NVML_LOST_AFTER");
  if (!spec || !*spec) return 0;
  const char* colon = strchr(spec, ':');
  unsigned long long after = 0;
  if (colon) {
    const long which = strtol(spec, NULL, 10);
    if (which < 0 || which >= FAKE_MAX_GPUS || &g_fake.gpu[which] != g) return 0;
    after = strtoull(colon + 1, NULL, 10);
  } else {
    after = strtoull(spec, NULL, 10);
  }
  return g->reading_calls > after;
}

static int InitImpl(void) {
  if (g_fake.initialised > 0) {
    ++g_fake.initialised;
    Log("init");
    return 0;
  }
  LoadConfig(1);
  Log("init");
  if (g_fake.init_code != 0) return g_fake.init_code;
  g_fake.initialised = 1;
  return 0;
}

static int CountImpl(unsigned int* count) {
  if (!g_fake.initialised) return 1;
  if (!count) return 2;
  if (g_fake.count_error) return g_fake.count_error;
  *count = g_fake.has_count_reported ? g_fake.count_reported : g_fake.count;
  return 0;
}

static int HandleImpl(unsigned int index, nvmlDevice_t* device) {
  if (!g_fake.initialised) return 1;
  if (!device || index >= g_fake.count) return 2;
  if (g_fake.gpu[index].handle_error) return g_fake.gpu[index].handle_error;
  *device = (nvmlDevice_t)(size_t)(index + 1);
  return 0;
}

int nvmlShutdown(void) {
  Log("shutdown");
  if (g_fake.initialised > 0) --g_fake.initialised;
  return 0;
}

const char* nvmlErrorString(int result) {
  switch (result) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 18: return "RM has detected an NVML/RM version mismatch.";
    default: return "Unknown Error";
  }
}

int nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  if (!g_fake.initialised) return 1;
  if (!version || length < strlen(g_fake.driver) + 1) return 7;
  CopyString(version, length, g_fake.driver);
  return 0;
}

int nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  struct FakeGpu* g = Gpu(device);
  if (!g || !name) return 2;
  if (g->name_unterminated && g->name[0]) {
    const size_t n = strlen(g->name);
    for (unsigned int i = 0; i < length; ++i) name[i] = g->name[i % n];
    return 0;
  }
  if (length < strlen(g->name) + 1) return 7;
  CopyString(name, length, g->name);
  return 0;
}

int nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  struct FakeGpu* g = Gpu(device);
  if (!g || !uuid) return 2;
  if (length < strlen(g->uuid) + 1) return 7;
  CopyString(uuid, length, g->uuid);
  return 0;
}

int nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  LoadConfig(0);
  struct FakeGpu* g = Gpu(device);
  if (!g_fake.initialised) return 1;
  if (!g || !power) return 2;
  if (LostNow(g)) return 15;
  if (g->power_error) return g->power_error;
  *power = g->power_mw;
  return 0;
}

#ifndef FAKE_NVML_OLD

int nvmlInit_v2(void) { return InitImpl(); }
int nvmlDeviceGetCount_v2(unsigned int* count) { return CountImpl(count); }
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  return HandleImpl(index, device);
}

int nvmlDeviceGetArchitecture(nvmlDevice_t device, unsigned int* arch) {
  struct FakeGpu* g = Gpu(device);
  if (!g || !arch) return 2;
  *arch = g->arch;
  return 0;
}

int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy) {
  LoadConfig(0);
  struct FakeGpu* g = Gpu(device);
  if (!g_fake.initialised) return 1;
  if (!g || !energy) return 2;
  if (LostNow(g)) return 15;
  if (g->energy_error) return g->energy_error;
  *energy = g->energy_mj + g->energy_step_mj * g->energy_calls;
  ++g->energy_calls;
  return 0;
}

int nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int* limit) {
  struct FakeGpu* g = Gpu(device);
  if (!g || !limit) return 2;
  if (!g->has_limit) return 3;
  *limit = g->limit_was_set ? g->set_limit_mw : g->limit_mw;
  return 0;
}

int nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int* limit) {
  LoadConfig(0);
  struct FakeGpu* g = Gpu(device);
  if (!g_fake.initialised) return 1;
  if (!g || !limit) return 2;
  if (!g->has_limit) return 3;
  *limit = g->limit_was_set ? g->set_limit_mw : g->limit_mw;
  return 0;
}

int nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int* min_limit,
                                                 unsigned int* max_limit) {
  LoadConfig(0);
  struct FakeGpu* g = Gpu(device);
  if (!g_fake.initialised) return 1;
  if (!g || !min_limit || !max_limit) return 2;
  if (!g->has_limit || !g->limit_max_mw) return 3;
  *min_limit = g->limit_min_mw;
  *max_limit = g->limit_max_mw;
  return 0;
}

int nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit) {
  LoadConfig(0);
  struct FakeGpu* g = Gpu(device);
  if (!g_fake.initialised) return 1;
  if (!g) return 2;
  if (g->set_limit_error) return g->set_limit_error;
  if (!g->has_limit || !g->limit_max_mw) return 3;
  if (limit < g->limit_min_mw || limit > g->limit_max_mw) return 2;
  g->set_limit_mw = limit;
  g->limit_was_set = 1;
  char line[64];
  snprintf(line, sizeof line, "set_limit gpu%d %u", (int)(g - g_fake.gpu), limit);
  Log(line);
  return 0;
}

#else

int nvmlInit(void) { return InitImpl(); }
int nvmlDeviceGetCount(unsigned int* count) { return CountImpl(count); }
int nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t* device) {
  return HandleImpl(index, device);
}

#endif
