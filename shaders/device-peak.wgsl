// The device's ceilings for `npm run bench:gpu`: `flops` runs chains of independent fp32 FMAs from
// registers (no memory traffic but one store per thread, so the compiler keeps the work), and
// `copy` streams one buffer into another (bandwidth = bytes read + written per second).
// Layout: flops writes one f32 per thread into dst; copy reads src and writes dst, vec4 elements.
// Workgroup: 256 threads; copy folds its workgroups into a 2-D grid past 65,535.

struct Params {
  iterations: u32,
  n4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

const WG: u32 = 256u;

/** 8 vec4 accumulators × 4 lanes × 2 FLOPs = 64 FLOPs per thread per iteration. */
@compute @workgroup_size(WG)
fn flops(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let seed = f32(gid.x) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  let c = vec4f(seed);
  var a0 = vec4f(seed);
  var a1 = a0 + 1.0;
  var a2 = a0 + 2.0;
  var a3 = a0 + 3.0;
  var a4 = a0 + 4.0;
  var a5 = a0 + 5.0;
  var a6 = a0 + 6.0;
  var a7 = a0 + 7.0;
  for (var i = 0u; i < p.iterations; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  let index = gid.y * nwg.x * WG + gid.x;
  if (index < p.n4) {
    dst[index] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  }
}

@compute @workgroup_size(WG)
fn copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i < p.n4) {
    dst[i] = src[i];
  }
}
