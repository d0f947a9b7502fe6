/** The products the matmul benchmark times: square matrices and the shapes a small Llama runs. */
export interface MatmulCase {
  name: string;
  m: number;
  k: number;
  n: number;
  /** b is stored [n, k], as Linear weights are. */
  transB: boolean;
}

export function matmulCases(quick: boolean): MatmulCase[] {
  const square = (s: number): MatmulCase => ({ name: `square ${s}`, m: s, k: s, n: s, transB: false });
  return [
    square(256),
    square(512),
    ...(quick ? [] : [square(1024)]),
    { name: "prefill 128×576 · 576×1536", m: 128, k: 576, n: 1536, transB: false },
    { name: "prefill 128×576 · [1536,576]ᵀ", m: 128, k: 576, n: 1536, transB: true },
    { name: "decode 1×576 · [49152,576]ᵀ", m: 1, k: 576, n: 49152, transB: true },
  ];
}

export const flops = (c: MatmulCase): number => 2 * c.m * c.k * c.n;
