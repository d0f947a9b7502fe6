// LoRA dropout with a counter-based mask: element i is kept iff hash(i, seed, step) ≥ p.threshold
// (threshold = round(p_drop · 2^32)), and kept values are scaled by p.scale = 1 / (1 − p_drop).
// The mask is a pure function of (seed, step, i), so backward regenerates it instead of storing it.
//   hash = pcg(pcg(i) ^ pcg(seed ^ pcg(step))), pcg = the PCG-RXS-M-XS 32-bit hash (Jarzynski &
//   Olano 2020); pcg(i) is a bijection, so different keys give permuted, not shifted, streams.
// dropout:            out[i] = keep(i) ? x[i] · scale : 0
// dropout_accumulate: out[i] += keep(i) ? x[i] · scale : 0   (the dropout's backward into dx)
// Layout: x, out are flat f32 arrays of p.n elements. Workgroup: 256 threads, one element each,
// folded into a 2-D grid past 65,535 workgroups.

struct Params {
  n: u32,
  seed: u32,
  step: u32,
  threshold: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn dropped(i: u32) -> f32 {
  let h = pcg(pcg(i) ^ pcg(p.seed ^ pcg(p.step)));
  return select(0.0, x[i] * p.scale, h >= p.threshold);
}

@compute @workgroup_size(WG)
fn dropout(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i < p.n) {
    out[i] = dropped(i);
  }
}

@compute @workgroup_size(WG)
fn dropout_accumulate(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i < p.n) {
    out[i] += dropped(i);
  }
}
