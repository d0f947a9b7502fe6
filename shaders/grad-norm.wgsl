// Global L2 norm of a list of gradient tensors, clip scale and non-finite flag, and in-place clipping.
// Deterministic two-stage reduction (fixed summation order, no atomics):
//   partial_sums: one dispatch per tensor; workgroup w sums grad[w·CHUNK ..][..CHUNK]² and flags any
//     Inf/NaN element, writing partials[2·(offset + w)] = Σg², partials[2·(offset + w) + 1] = flag.
//   finalize: one workgroup over all p.count partials writes stats (f32 [3]):
//     stats[0] = ‖g‖₂, stats[1] = clip scale = min(1, max_norm / (‖g‖₂ + 1e-6)) (1 when max_norm ≤ 0,
//     as torch.nn.utils.clip_grad_norm_), stats[2] = 1 if any element or the norm is Inf/NaN, else 0.
//   scale: grad[i] *= stats[1], one dispatch per tensor; the scale is read on the GPU, never on the host.
// Layout: grad is a flat f32 array of p.n elements. Workgroup: 256 threads; partial_sums and scale fold
// their workgroups into a 2-D grid past 65,535.

struct Params {
  n: u32,
  offset: u32,
  count: u32,
  max_norm: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
// read_write in every entry point: scale writes it, and one declaration serves all three.
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

const WG: u32 = 256u;
const CHUNK: u32 = 4096u; // WG · 16; a literal because the reflection parser cannot fold constant expressions
var<workgroup> sums: array<f32, WG>;
var<workgroup> flags: array<f32, WG>;

// Bit test rather than x != x: compilers may assume floats are finite and fold comparisons away.
fn non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn reduce(tid: u32, s: f32, f: f32) {
  sums[tid] = s;
  flags[tid] = f;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (tid < stride) {
      sums[tid] += sums[tid + stride];
      flags[tid] = max(flags[tid], flags[tid + stride]);
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn partial_sums(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let w = wid.y * nwg.x + wid.x;
  let start = w * CHUNK;
  if (start >= p.n) {
    return;
  }
  let end = min(start + CHUNK, p.n);
  var s = 0.0;
  var f = 0.0;
  for (var i = start + tid; i < end; i += WG) {
    let g = grad[i];
    s += g * g;
    f = select(f, 1.0, non_finite(g));
  }
  reduce(tid, s, f);
  if (tid == 0u) {
    partials[2u * (p.offset + w)] = sums[0];
    partials[2u * (p.offset + w) + 1u] = flags[0];
  }
}

@compute @workgroup_size(WG)
fn finalize(@builtin(local_invocation_index) tid: u32) {
  var s = 0.0;
  var f = 0.0;
  for (var i = tid; i < p.count; i += WG) {
    s += partials[2u * i];
    f = max(f, partials[2u * i + 1u]);
  }
  reduce(tid, s, f);
  if (tid == 0u) {
    let norm = sqrt(sums[0]);
    let bad = flags[0] > 0.0 || non_finite(norm);
    var scale = 1.0;
    if (p.max_norm > 0.0 && !bad) {
      scale = min(1.0, p.max_norm / (norm + 1e-6));
    }
    stats[0] = norm;
    stats[1] = scale;
    stats[2] = select(0.0, 1.0, bad);
  }
}

@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i < p.n) {
    grad[i] *= stats[1];
  }
}
