# Source this: points Dawn (the `webgpu` package) at a CPU Vulkan driver for tests and benchmarks.
#   PRUNELAB_VK=lavapipe|swiftshader|system  (default: lavapipe when installed, else SwiftShader)
# On a machine with a real GPU and its Vulkan driver, PRUNELAB_VK=system leaves the choice to Vulkan.
_prunelab_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_lvp="$_prunelab_root/.cache/lavapipe/lvp_icd.json"
_swift=/usr/lib/chromium/vk_swiftshader_icd.json
case "${PRUNELAB_VK:-}" in
  system) unset VK_ICD_FILENAMES ;;
  swiftshader) export VK_ICD_FILENAMES="$_swift" ;;
  lavapipe) export VK_ICD_FILENAMES="$_lvp" ;;
  *) if [ -f "$_lvp" ]; then export VK_ICD_FILENAMES="$_lvp"; export PRUNELAB_VK=lavapipe;
     else export VK_ICD_FILENAMES="$_swift"; export PRUNELAB_VK=swiftshader; fi ;;
esac
export NODEVICE_SELECT=1
unset _prunelab_root _lvp _swift
