/**
 * Workgroup counts over 65,535 (the portable per-dimension limit) are folded into two dimensions;
 * kernels recover the linear index as `wid.y * nwg.x + wid.x` and skip indices past the end.
 */
export const maxWorkgroupsPerDimension = 65535;

export function grid(workgroups: number): [number, number] {
  if (workgroups <= maxWorkgroupsPerDimension) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxWorkgroupsPerDimension);
  return [Math.ceil(workgroups / y), y];
}
