// SwiGLU (Llama MLP): out = silu(gate) * up, silu(g) = g * sigmoid(g); and its backward
//   dGate = dOut * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))),   dUp = dOut * silu(g).
// Layout: gate, up, out, dOut, dGate, dUp are flat f32 arrays of p.n elements (any shape, same for all).
// Workgroup: 256 threads, one element each; workgroups folded into a 2-D grid past 65,535.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> dOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> dGate: array<f32>;
@group(0) @binding(6) var<storage, read_write> dUp: array<f32>;

const WG: u32 = 256u;

// exp of a non-positive argument only, so large |g| never overflows to inf.
fn sigmoid(g: f32) -> f32 {
  let e = exp(-abs(g));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), g >= 0.0);
}

fn index(wid: vec3u, nwg: vec3u, tid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + tid;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = index(wid, nwg, tid);
  if (i >= p.n) {
    return;
  }
  let g = gate[i];
  out[i] = g * sigmoid(g) * up[i];
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = index(wid, nwg, tid);
  if (i >= p.n) {
    return;
  }
  let g = gate[i];
  let s = sigmoid(g);
  let d = dOut[i];
  dGate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));
  dUp[i] = d * g * s;
}
