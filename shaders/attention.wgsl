// Causal grouped-query attention, scale 1/sqrt(head_dim), with an optional key padding mask and an
// optional sliding window (p.window > 0: the query at position t sees keys t − window < j ≤ t).
//   out[b, i, h] = Σ_j softmax_j(q[b, i, h] · k[b, j, g] · scale) v[b, j, g],  g = h / (heads / kv_heads),
//   over keys j ≤ past + i whose mask[b, j] is 1; lse[b, h, i] = log Σ_j exp(s_ij) (0 where no key is
//   visible, and out is 0 there).
// Layout (row-major f32, read as vec4 so head_dim must be a multiple of 4, at most 128):
//   q, out, d_out, dq  [batch, q_tokens, heads, head_dim]   (the q projection's output, no transpose)
//   k, v, dk, dv       [batch, kv_tokens, kv_heads, head_dim]  (kv_tokens: T, or the KV-cache capacity)
//   mask               u32 [batch, kv_tokens], 1 = real token (read only when p.masked is 1)
//   lse                [batch, heads, q_tokens]; stats [batch, heads, q_tokens, 2] = (lse, Σ d_out·out)
// Query row i sits at absolute position past + i: past is 0 for a full sequence and the cache length
// for decoding, so several new tokens are causal among themselves too.
//
// In forward, every thread owns one query row and walks its keys in order with an online softmax
// (FlashAttention without shared-memory tiles, which CPU Vulkan drivers run slower than plain cached
// loads; decode instead splits one row's keys over a workgroup and reads each key once per GQA
// group). Backward recomputes the probabilities from lse, FlashAttention-2 style, and gathers each
// gradient in the thread that owns it — dq per query row, dk/dv per key row summed over its query
// heads in a fixed order — so nothing needs atomics.
// Workgroups: forward, backward_delta, backward_dq: 64 threads along query rows × heads × batch;
//   backward_dkv: 64 threads along key rows × kv_heads × batch; decode: one workgroup of 64 threads
//   per query row × group of heads × batch (see decode).

struct Params {
  q_tokens: u32,
  kv_tokens: u32,
  past: u32,
  heads: u32,
  kv_heads: u32,
  head_dim: u32,
  masked: u32,
  scale: f32,
  // decode: query heads per workgroup, a divisor of heads / kv_heads, at most 4.
  group_heads: u32,
  // Sliding window in positions (Mistral), 0 for none.
  window: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
@group(0) @binding(7) var<storage, read> out_saved: array<vec4f>;
@group(0) @binding(8) var<storage, read> lse_saved: array<f32>;
@group(0) @binding(9) var<storage, read> d_out: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> stats: array<vec2f>;
@group(0) @binding(11) var<storage, read> stats_saved: array<vec2f>;
@group(0) @binding(12) var<storage, read_write> dq: array<vec4f>;
@group(0) @binding(13) var<storage, read_write> dk: array<vec4f>;
@group(0) @binding(14) var<storage, read_write> dv: array<vec4f>;

const WG: u32 = 64u;
const MAX_D4: u32 = 32u;
// Start of the running maximum: exp(NO_MAX − s) underflows to 0 without producing infinities,
// which WGSL lets implementations assume away.
const NO_MAX: f32 = -3.0e38;

fn q_row(b: u32, i: u32, h: u32) -> u32 {
  return ((b * p.q_tokens + i) * p.heads + h) * (p.head_dim / 4u);
}

fn kv_row(b: u32, j: u32, g: u32) -> u32 {
  return ((b * p.kv_tokens + j) * p.kv_heads + g) * (p.head_dim / 4u);
}

fn visible(b: u32, j: u32) -> bool {
  return p.masked == 0u || mask[b * p.kv_tokens + j] != 0u;
}

// The first key the query at absolute position t sees: 0, or the start of its sliding window.
fn first_key(t: u32) -> u32 {
  return select(0u, max(t + 1u, p.window) - p.window, p.window > 0u);
}

// Writes out[b, i, h] and returns its lse.
fn attend_row(b: u32, i: u32, h: u32) -> f32 {
  let d4 = p.head_dim / 4u;
  let g = h / (p.heads / p.kv_heads);
  let qi = q_row(b, i, h);
  var qs: array<vec4f, MAX_D4>;
  var acc: array<vec4f, MAX_D4>;
  for (var c = 0u; c < d4; c++) {
    qs[c] = q[qi + c] * p.scale;
    acc[c] = vec4f(0.0);
  }
  var m = NO_MAX;
  var l = 0.0;
  for (var j = first_key(p.past + i); j <= p.past + i; j++) {
    if (!visible(b, j)) {
      continue;
    }
    let kj = kv_row(b, j, g);
    var s = 0.0;
    for (var c = 0u; c < d4; c++) {
      s += dot(qs[c], k[kj + c]);
    }
    // The maximum soon settles, so rescaling only when it moves skips most of the rescales.
    if (s > m) {
      let rescale = exp(m - s);
      l *= rescale;
      for (var c = 0u; c < d4; c++) {
        acc[c] *= rescale;
      }
      m = s;
    }
    let e = exp(s - m);
    l += e;
    for (var c = 0u; c < d4; c++) {
      acc[c] += e * v[kj + c];
    }
  }
  let inv_l = select(0.0, 1.0 / l, l > 0.0);
  for (var c = 0u; c < d4; c++) {
    out[qi + c] = acc[c] * inv_l;
  }
  return select(0.0, m + log(l), l > 0.0);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = wid.x * WG + tid;
  if (i >= p.q_tokens) {
    return;
  }
  lse[(wid.z * p.heads + wid.y) * p.q_tokens + i] = attend_row(wid.z, i, wid.y);
}

var<workgroup> chunk_max: array<vec4f, WG>;
var<workgroup> chunk_weights: array<vec4f, WG>;

// One workgroup per query row and group of p.group_heads (≤ 4) query heads that share a kv head: a
// decoded token is a single row per head, so one thread per row would leave all but a few lanes idle,
// and reading each key and value once for the whole group instead of once per head (GQA) is most of
// the work. The threads score 64 keys at a time for the 4 heads at once (heads past the group repeat
// its last one and are never written), reduce the chunk's maxima in a fixed tree, and threads
// c < head_dim/4 accumulate out[c] of every head over the chunk in key order.
@compute @workgroup_size(WG)
fn decode(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = wid.x;
  let b = wid.z;
  let gh = p.group_heads;
  let h0 = wid.y * gh;
  let g = h0 / (p.heads / p.kv_heads);
  let d4 = p.head_dim / 4u;
  let q0 = q_row(b, i, h0);
  let q1 = q_row(b, i, h0 + min(1u, gh - 1u));
  let q2 = q_row(b, i, h0 + min(2u, gh - 1u));
  let q3 = q_row(b, i, h0 + min(3u, gh - 1u));
  let keys = p.past + i + 1u;
  var m = vec4f(NO_MAX);
  var l = vec4f(0.0);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var j0 = 0u; j0 < keys; j0 += WG) {
    let j = j0 + tid;
    var s = vec4f(NO_MAX);
    if (j < keys && j >= first_key(p.past + i) && visible(b, j)) {
      let kj = kv_row(b, j, g);
      var dots = vec4f(0.0);
      for (var c = 0u; c < d4; c++) {
        let kc = k[kj + c];
        dots += vec4f(dot(q[q0 + c], kc), dot(q[q1 + c], kc), dot(q[q2 + c], kc), dot(q[q3 + c], kc));
      }
      s = dots * p.scale;
    }
    chunk_max[tid] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
      if (tid < stride) {
        chunk_max[tid] = max(chunk_max[tid], chunk_max[tid + stride]);
      }
      workgroupBarrier();
    }
    let m_new = max(m, chunk_max[0]);
    chunk_weights[tid] = select(vec4f(0.0), exp(s - m_new), s > vec4f(NO_MAX));
    workgroupBarrier();
    if (tid < d4) {
      let rescale = exp(m - m_new);
      l *= rescale;
      acc0 *= rescale.x;
      acc1 *= rescale.y;
      acc2 *= rescale.z;
      acc3 *= rescale.w;
      for (var jj = 0u; jj < min(WG, keys - j0); jj++) {
        let e = chunk_weights[jj];
        let vj = v[kv_row(b, j0 + jj, g) + tid];
        l += e;
        acc0 += e.x * vj;
        acc1 += e.y * vj;
        acc2 += e.z * vj;
        acc3 += e.w * vj;
      }
    }
    m = m_new;
    workgroupBarrier();
  }
  if (tid < d4) {
    out[q0 + tid] = select(vec4f(0.0), acc0 / l.x, l.x > 0.0);
    if (gh > 1u) {
      out[q1 + tid] = select(vec4f(0.0), acc1 / l.y, l.y > 0.0);
    }
    if (gh > 2u) {
      out[q2 + tid] = select(vec4f(0.0), acc2 / l.z, l.z > 0.0);
    }
    if (gh > 3u) {
      out[q3 + tid] = select(vec4f(0.0), acc3 / l.w, l.w > 0.0);
    }
  }
}

// stats[b, h, i] = (lse, Σ_d d_out · out): the row term of dS = P ∘ (dP − rowsum(dO ∘ O)).
@compute @workgroup_size(WG)
fn backward_delta(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = wid.x * WG + tid;
  if (i >= p.q_tokens) {
    return;
  }
  let r = q_row(wid.z, i, wid.y);
  var delta = 0.0;
  for (var c = 0u; c < p.head_dim / 4u; c++) {
    delta += dot(d_out[r + c], out_saved[r + c]);
  }
  let s = (wid.z * p.heads + wid.y) * p.q_tokens + i;
  stats[s] = vec2f(lse_saved[s], delta);
}

// dq[i] = scale · Σ_j P_ij (dO_i · v_j − delta_i) k_j
@compute @workgroup_size(WG)
fn backward_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = wid.x * WG + tid;
  if (i >= p.q_tokens) {
    return;
  }
  let b = wid.z;
  let h = wid.y;
  let d4 = p.head_dim / 4u;
  let g = h / (p.heads / p.kv_heads);
  let qi = q_row(b, i, h);
  let st = stats_saved[(b * p.heads + h) * p.q_tokens + i];
  var qs: array<vec4f, MAX_D4>;
  var go: array<vec4f, MAX_D4>;
  var acc: array<vec4f, MAX_D4>;
  for (var c = 0u; c < d4; c++) {
    qs[c] = q[qi + c] * p.scale;
    go[c] = d_out[qi + c];
    acc[c] = vec4f(0.0);
  }
  for (var j = first_key(p.past + i); j <= p.past + i; j++) {
    if (!visible(b, j)) {
      continue;
    }
    let kj = kv_row(b, j, g);
    var s = 0.0;
    var dp = 0.0;
    for (var c = 0u; c < d4; c++) {
      s += dot(qs[c], k[kj + c]);
      dp += dot(go[c], v[kj + c]);
    }
    let ds = exp(s - st.x) * (dp - st.y);
    for (var c = 0u; c < d4; c++) {
      acc[c] += ds * k[kj + c];
    }
  }
  for (var c = 0u; c < d4; c++) {
    dq[qi + c] = acc[c] * p.scale;
  }
}

// dv[j] = Σ_{h in group, i ≥ j} P_ij dO_i;  dk[j] = scale · Σ_{h, i} P_ij (dO_i · v_j − delta_i) q_i.
// A masked key gets zero gradients; every query row that sees a real key j has a finite lse.
@compute @workgroup_size(WG)
fn backward_dkv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let j = wid.x * WG + tid;
  if (j >= p.kv_tokens) {
    return;
  }
  let b = wid.z;
  let g = wid.y;
  let d4 = p.head_dim / 4u;
  let kj = kv_row(b, j, g);
  var ks: array<vec4f, MAX_D4>;
  var vj: array<vec4f, MAX_D4>;
  var gk: array<vec4f, MAX_D4>;
  var gv: array<vec4f, MAX_D4>;
  for (var c = 0u; c < d4; c++) {
    ks[c] = k[kj + c] * p.scale;
    vj[c] = v[kj + c];
    gk[c] = vec4f(0.0);
    gv[c] = vec4f(0.0);
  }
  if (visible(b, j)) {
    let group = p.heads / p.kv_heads;
    let first = max(j, p.past) - p.past;
    // Past the window no later query sees key j (positions past + i ≥ j + window).
    let end = select(p.q_tokens, min(p.q_tokens, max(j + p.window, p.past) - p.past), p.window > 0u);
    for (var h = g * group; h < (g + 1u) * group; h++) {
      for (var i = first; i < end; i++) {
        let qi = q_row(b, i, h);
        let st = stats_saved[(b * p.heads + h) * p.q_tokens + i];
        var s = 0.0;
        var dp = 0.0;
        for (var c = 0u; c < d4; c++) {
          s += dot(q[qi + c], ks[c]);
          dp += dot(d_out[qi + c], vj[c]);
        }
        let pr = exp(s - st.x);
        let ds = pr * (dp - st.y);
        for (var c = 0u; c < d4; c++) {
          gv[c] += pr * d_out[qi + c];
          gk[c] += ds * q[qi + c];
        }
      }
    }
  }
  for (var c = 0u; c < d4; c++) {
    dk[kj + c] = gk[c] * p.scale;
    dv[kj + c] = gv[c];
  }
}
