// Token embedding: out[n, d] = table[ids[n], d]; and its backward to the table,
//   dTable[v, d] (+)= sum over positions n with ids[n] = v, in increasing n, of dOut[n, d].
// Layout: ids u32 [N]; table [V, D] f32 or f16 (the host swaps the TableType alias and enables f16);
//   out, dOut [N, D] f32; dTable [V, D] f32. The backward takes the positions of each used id as a
//   CSR list built on the host: used_ids [U], offsets [U + 1] into positions [N], so every gradient
//   row is summed by one workgroup in a fixed order (deterministic, no atomics).
// forward: 256 threads, one output element each (flat over N·D; 2-D grid past 65,535 workgroups).
// backward: one workgroup of 64 threads per used id, striding over D (2-D grid past 65,535).

alias TableType = f32;

struct Params {
  tokens: u32,
  vocab: u32,
  dim: u32,
  used: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<TableType>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> used_ids: array<u32>;
@group(0) @binding(5) var<storage, read> offsets: array<u32>;
@group(0) @binding(6) var<storage, read> positions: array<u32>;
@group(0) @binding(7) var<storage, read> dOut: array<f32>;
@group(0) @binding(8) var<storage, read_write> dTable: array<f32>;

const FORWARD_WG: u32 = 256u;
const BACKWARD_WG: u32 = 64u;

@compute @workgroup_size(FORWARD_WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * FORWARD_WG + tid;
  if (i >= p.tokens * p.dim) {
    return;
  }
  let id = ids[i / p.dim];
  // Ids produced on the GPU (e.g. by argmax) cannot be checked on the host; an out-of-range id
  // yields NaN rather than some other token's row, so the mistake shows downstream.
  if (id >= p.vocab) {
    // A NaN constant is rejected by WGSL, so the bits go through a runtime value.
    let nan_bits = 0x7fc00000u;
    out[i] = bitcast<f32>(nan_bits);
    return;
  }
  out[i] = f32(table[id * p.dim + i % p.dim]);
}

@compute @workgroup_size(BACKWARD_WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let u = wid.y * nwg.x + wid.x;
  if (u >= p.used) {
    return;
  }
  let row = used_ids[u] * p.dim;
  let first = offsets[u];
  let last = offsets[u + 1u];
  for (var d = tid; d < p.dim; d += BACKWARD_WG) {
    var acc = 0.0;
    for (var j = first; j < last; j++) {
      acc += dOut[positions[j] * p.dim + d];
    }
    if (p.accumulate != 0u) {
      acc += dTable[row + d];
    }
    dTable[row + d] = acc;
  }
}
