// kstats: what a Vulkan driver's shader compiler makes of SPIR-V compute shaders.
//
// It creates one compute pipeline per SPIR-V file on the Vulkan device the loader offers first
// and prints the statistics the driver reports through VK_KHR_pipeline_executable_properties:
// registers, spills, scratch and workgroup memory, occupancy, instruction counts. With Mesa's
// RADV driver selected (VK_ICD_FILENAMES) and RADV_FORCE_FAMILY=navi31, RADV runs on a "null
// device": it compiles for that AMD GPU exactly as for the real card, with no GPU present.
// `npm run kernel-stats` (bench/kernel-stats/) builds and runs it; the figures are ACO's.
//
//   usage: kstats FILE.spv [FILE.spv...]
//
// Output, on stdout, one line per file and pipeline executable (a compute pipeline has one),
// fields separated by tabs:
//   # device=AMD Radeon RX 7900 XTX (RADV NAVI31)	driver=Mesa 25.0.7
//   FILE	Executable=Compute Shader	Subgroup size=32	SGPRs=24	VGPRs=48	...
//   FILE	error=vkCreateComputePipelines returned -13
// Statistic names are the driver's own and contain no tab or '='. A file that does not compile
// gets an error line and the others still run, so one bad kernel does not hide the rest; the
// exit status is 0 whenever every file has its line, and 1 when there is no usable device.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#define MAX_SETS 4
#define MAX_BINDINGS 64

static void die(const char *what, VkResult result) {
  fprintf(stderr, "kstats: %s failed (VkResult %d)\n", what, (int)result);
  exit(1);
}

#define CHECK(call)                                  \
  do {                                               \
    VkResult result_ = (call);                       \
    if (result_ != VK_SUCCESS) die(#call, result_);  \
  } while (0)

// The whole file; SPIR-V is a stream of 32-bit words.
static uint32_t *read_words(const char *path, size_t *count) {
  FILE *file = fopen(path, "rb");
  if (!file) return NULL;
  fseek(file, 0, SEEK_END);
  long bytes = ftell(file);
  rewind(file);
  uint32_t *words = bytes > 0 && bytes % 4 == 0 ? malloc((size_t)bytes) : NULL;
  if (words && fread(words, 1, (size_t)bytes, file) != (size_t)bytes) {
    free(words);
    words = NULL;
  }
  fclose(file);
  *count = words ? (size_t)bytes / 4 : 0;
  return words;
}

// The descriptor bindings a shader declares. The pipeline layout must match them (a storage
// buffer where the shader has a uniform block is invalid usage, and drivers lay descriptor sets
// out from the layout), so it is read from the module rather than guessed: every variable
// decorated with DescriptorSet and Binding, typed by its storage class (Dawn's SPIR-V uses
// StorageBuffer for storage and Uniform for uniform blocks; WGSL has no other buffer kind).
typedef struct {
  int used;
  VkDescriptorType type;
} Binding;

typedef struct {
  Binding sets[MAX_SETS][MAX_BINDINGS];
  int set_count;
} Layout;

enum { OP_VARIABLE = 59, OP_DECORATE = 71, DECORATION_BINDING = 33, DECORATION_SET = 34 };
enum { STORAGE_UNIFORM = 2, STORAGE_BUFFER = 12 };

static const char *reflect_layout(const uint32_t *words, size_t count, Layout *layout) {
  if (count < 5 || words[0] != 0x07230203u) return "not a SPIR-V binary";
  uint32_t bound = words[3];
  int32_t *set = malloc(bound * sizeof *set);
  int32_t *binding = malloc(bound * sizeof *binding);
  for (uint32_t id = 0; id < bound; id++) set[id] = binding[id] = -1;
  memset(layout, 0, sizeof *layout);
  const char *error = NULL;
  for (size_t at = 5; at < count && !error;) {
    uint32_t length = words[at] >> 16, opcode = words[at] & 0xffffu;
    if (length == 0 || at + length > count) {
      error = "truncated instruction";
      break;
    }
    if (opcode == OP_DECORATE && length >= 4 && words[at + 1] < bound) {
      if (words[at + 2] == DECORATION_BINDING) binding[words[at + 1]] = (int32_t)words[at + 3];
      if (words[at + 2] == DECORATION_SET) set[words[at + 1]] = (int32_t)words[at + 3];
    }
    // Decorations come before the variables they decorate (SPIR-V's logical layout).
    if (opcode == OP_VARIABLE && length >= 4 && words[at + 2] < bound) {
      uint32_t id = words[at + 2], storage = words[at + 3];
      if (set[id] >= 0 && binding[id] >= 0) {
        if (set[id] >= MAX_SETS || binding[id] >= MAX_BINDINGS) {
          error = "descriptor set or binding number too large";
        } else if (storage != STORAGE_UNIFORM && storage != STORAGE_BUFFER) {
          error = "a binding that is not a buffer (textures and samplers are not supported)";
        } else {
          Binding *b = &layout->sets[set[id]][binding[id]];
          b->used = 1;
          b->type = storage == STORAGE_UNIFORM ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
          if (set[id] + 1 > layout->set_count) layout->set_count = set[id] + 1;
        }
      }
    }
    at += length;
  }
  free(set);
  free(binding);
  return error;
}

static VkPipelineLayout create_layout(VkDevice device, const Layout *layout, VkDescriptorSetLayout *sets) {
  for (int s = 0; s < layout->set_count; s++) {
    VkDescriptorSetLayoutBinding entries[MAX_BINDINGS];
    uint32_t n = 0;
    for (uint32_t b = 0; b < MAX_BINDINGS; b++) {
      if (!layout->sets[s][b].used) continue;
      entries[n++] = (VkDescriptorSetLayoutBinding){
        .binding = b, .descriptorType = layout->sets[s][b].type, .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    }
    VkDescriptorSetLayoutCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = n, .pBindings = entries};
    CHECK(vkCreateDescriptorSetLayout(device, &info, NULL, &sets[s]));
  }
  VkPipelineLayoutCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = (uint32_t)layout->set_count, .pSetLayouts = sets};
  VkPipelineLayout pipeline_layout;
  CHECK(vkCreatePipelineLayout(device, &info, NULL, &pipeline_layout));
  return pipeline_layout;
}

static void print_statistic(const VkPipelineExecutableStatisticKHR *s) {
  printf("\t%s=", s->name);
  switch (s->format) {
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: printf("%u", (unsigned)s->value.b32); break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: printf("%lld", (long long)s->value.i64); break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: printf("%llu", (unsigned long long)s->value.u64); break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR: printf("%g", s->value.f64); break;
    default: printf("?"); break;
  }
}

// Compiles one file and prints its line(s).
static void report_file(VkDevice device, const char *path) {
  PFN_vkGetPipelineExecutablePropertiesKHR get_executables =
      (PFN_vkGetPipelineExecutablePropertiesKHR)vkGetDeviceProcAddr(device, "vkGetPipelineExecutablePropertiesKHR");
  PFN_vkGetPipelineExecutableStatisticsKHR get_statistics =
      (PFN_vkGetPipelineExecutableStatisticsKHR)vkGetDeviceProcAddr(device, "vkGetPipelineExecutableStatisticsKHR");
  size_t count;
  uint32_t *code = read_words(path, &count);
  if (!code) {
    printf("%s\terror=cannot read a SPIR-V binary from this file\n", path);
    return;
  }
  Layout layout;
  const char *problem = reflect_layout(code, count, &layout);
  if (problem) {
    printf("%s\terror=%s\n", path, problem);
    free(code);
    return;
  }
  VkShaderModuleCreateInfo module_info = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = count * 4, .pCode = code};
  VkShaderModule module;
  CHECK(vkCreateShaderModule(device, &module_info, NULL, &module));
  VkDescriptorSetLayout sets[MAX_SETS];
  VkPipelineLayout pipeline_layout = create_layout(device, &layout, sets);
  VkComputePipelineCreateInfo pipeline_info = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      // Without this flag the driver need not keep the statistics.
      .flags = VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR,
      .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                // Dawn renames every entry point to this in the SPIR-V it generates.
                .pName = "dawn_entry_point"},
      .layout = pipeline_layout};
  VkPipeline pipeline;
  VkResult result = vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &pipeline_info, NULL, &pipeline);
  if (result != VK_SUCCESS) {
    printf("%s\terror=vkCreateComputePipelines returned %d\n", path, (int)result);
  } else {
    VkPipelineInfoKHR pipeline_ref = {.sType = VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR, .pipeline = pipeline};
    uint32_t executables = 0;
    CHECK(get_executables(device, &pipeline_ref, &executables, NULL));
    VkPipelineExecutablePropertiesKHR *properties = calloc(executables, sizeof *properties);
    for (uint32_t e = 0; e < executables; e++) properties[e].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR;
    CHECK(get_executables(device, &pipeline_ref, &executables, properties));
    for (uint32_t e = 0; e < executables; e++) {
      VkPipelineExecutableInfoKHR executable = {
          .sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR, .pipeline = pipeline, .executableIndex = e};
      uint32_t n = 0;
      CHECK(get_statistics(device, &executable, &n, NULL));
      VkPipelineExecutableStatisticKHR *statistics = calloc(n, sizeof *statistics);
      for (uint32_t i = 0; i < n; i++) statistics[i].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
      CHECK(get_statistics(device, &executable, &n, statistics));
      printf("%s\tExecutable=%s\tSubgroup size=%u", path, properties[e].name, properties[e].subgroupSize);
      for (uint32_t i = 0; i < n; i++) print_statistic(&statistics[i]);
      printf("\n");
      free(statistics);
    }
    free(properties);
    vkDestroyPipeline(device, pipeline, NULL);
  }
  vkDestroyPipelineLayout(device, pipeline_layout, NULL);
  for (int s = 0; s < layout.set_count; s++) vkDestroyDescriptorSetLayout(device, sets[s], NULL);
  vkDestroyShaderModule(device, module, NULL);
  free(code);
}

static int has_extension(VkPhysicalDevice physical, const char *name) {
  uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(physical, NULL, &count, NULL);
  VkExtensionProperties *extensions = calloc(count, sizeof *extensions);
  vkEnumerateDeviceExtensionProperties(physical, NULL, &count, extensions);
  int found = 0;
  for (uint32_t i = 0; i < count && !found; i++) found = strcmp(extensions[i].extensionName, name) == 0;
  free(extensions);
  return found;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: kstats FILE.spv [FILE.spv...]\n");
    return 2;
  }
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "kstats", .apiVersion = VK_API_VERSION_1_3};
  VkInstanceCreateInfo instance_info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
  VkInstance instance;
  CHECK(vkCreateInstance(&instance_info, NULL, &instance));
  uint32_t devices = 1;
  VkPhysicalDevice physical;
  VkResult enumerated = vkEnumeratePhysicalDevices(instance, &devices, &physical);
  if ((enumerated != VK_SUCCESS && enumerated != VK_INCOMPLETE) || devices == 0) {
    fprintf(stderr, "kstats: no Vulkan device (for RADV without a GPU, set RADV_FORCE_FAMILY and VK_ICD_FILENAMES)\n");
    return 1;
  }

  VkPhysicalDeviceDriverProperties driver = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &driver};
  vkGetPhysicalDeviceProperties2(physical, &properties);
  printf("# device=%s\tdriver=%s %s\n", properties.properties.deviceName, driver.driverName, driver.driverInfo);

  // Every feature the device has, enabled: Dawn's SPIR-V may use the Vulkan memory model,
  // subgroup operations, 8- and 16-bit storage and f16, depending on the kernel, and a feature
  // left off would make a valid kernel fail to compile. Features do not change the code of a
  // kernel that does not use them, with one exception kept on purpose: robust buffer access
  // (and VK_EXT_robustness2's tighter version), which Dawn enables for WebGPU's bounds
  // guarantees, so the driver compiles the bounds-checked loads users' devices run.
  int robustness2 = has_extension(physical, VK_EXT_ROBUSTNESS_2_EXTENSION_NAME);
  VkPhysicalDeviceRobustness2FeaturesEXT robustness2_features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT};
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR executable_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR,
      .pNext = robustness2 ? &robustness2_features : NULL};
  VkPhysicalDeviceVulkan13Features features13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES, .pNext = &executable_features};
  VkPhysicalDeviceVulkan12Features features12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, .pNext = &features13};
  VkPhysicalDeviceVulkan11Features features11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &features12};
  VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &features11};
  vkGetPhysicalDeviceFeatures2(physical, &features);
  if (!executable_features.pipelineExecutableInfo) {
    fprintf(stderr, "kstats: %s does not report pipeline statistics (VK_KHR_pipeline_executable_properties)\n",
            properties.properties.deviceName);
    return 1;
  }

  float priority = 1;
  VkDeviceQueueCreateInfo queue = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = 0, .queueCount = 1, .pQueuePriorities = &priority};
  const char *extensions[] = {VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME, VK_EXT_ROBUSTNESS_2_EXTENSION_NAME};
  VkDeviceCreateInfo device_info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = &features,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue,
      .enabledExtensionCount = robustness2 ? 2 : 1,
      .ppEnabledExtensionNames = extensions};
  VkDevice device;
  CHECK(vkCreateDevice(physical, &device_info, NULL, &device));

  for (int a = 1; a < argc; a++) report_file(device, argv[a]);
  fflush(stdout);
  vkDestroyDevice(device, NULL);
  vkDestroyInstance(instance, NULL);
  return 0;
}
