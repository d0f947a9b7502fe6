// Greedy decoding: index[r] = the lowest i with logits[r, i] = max_j logits[r, j].
// Layout: logits [rows, vocab] row-major f32; index u32 [rows].
// Workgroup: 256 threads per row (rows folded into a 2-D grid past 65,535); each thread scans its
//   strided indices in increasing order, then a tree in workgroup memory keeps the larger value and,
//   on ties, the lower index. Logits must be NaN-free (WGSL does not order NaN).

struct Params {
  rows: u32,
  vocab: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> index: array<u32>;

const WG: u32 = 256u;
var<workgroup> best_value: array<f32, WG>;
var<workgroup> best_index: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.rows) {
    return;
  }
  let base = row * p.vocab;
  // Index `vocab` marks "nothing seen yet" (threads past the end of a short row keep it); its value
  // is never compared.
  var v = 0.0;
  var i_best = p.vocab;
  for (var i = tid; i < p.vocab; i += WG) {
    let x = logits[base + i];
    if (i_best == p.vocab || x > v) {
      v = x;
      i_best = i;
    }
  }
  best_value[tid] = v;
  best_index[tid] = i_best;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (tid < k) {
      let v1 = best_value[tid];
      let i1 = best_index[tid];
      let v2 = best_value[tid + k];
      let i2 = best_index[tid + k];
      if (i2 != p.vocab && (i1 == p.vocab || v2 > v1 || (v2 == v1 && i2 < i1))) {
        best_value[tid] = v2;
        best_index[tid] = i2;
      }
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    index[row] = best_index[0];
  }
}
