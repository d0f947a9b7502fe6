/**
 * Compiles each WGSL source once, creates each (source, entry point, constants) pipeline once, and
 * derives bind-group layouts and uniform byte layouts from the WGSL itself through webgpu-utils.
 */
import {
  makeBindGroupLayoutDescriptors,
  makeShaderDataDefinitions,
  makeStructuredView,
  type ShaderDataDefinitions,
  type StructDefinition,
  type StructuredView,
} from "webgpu-utils";

interface Shader {
  module: GPUShaderModule;
  defs: ShaderDataDefinitions;
  /** By entry point and constants: keyed per shader so a launch never hashes the whole source. */
  pipelines: Map<string, CachedPipeline>;
  views: Map<string, { view: StructuredView; fields: string[] }>;
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  defs: ShaderDataDefinitions;
}

export class PipelineCache {
  private readonly shaders = new Map<string, Shader>();

  constructor(private readonly device: GPUDevice) {}

  get(code: string, entryPoint: string, constants?: Record<string, number>): CachedPipeline {
    const shader = this.shader(code);
    const key = constants ? `${entryPoint}|${JSON.stringify(constants)}` : entryPoint;
    let cached = shader.pipelines.get(key);
    if (!cached) {
      if (!shader.defs.entryPoints[entryPoint]) {
        throw new Error(`WGSL has no entry point '${entryPoint}' (has: ${Object.keys(shader.defs.entryPoints).join(", ")})`);
      }
      const [desc] = makeBindGroupLayoutDescriptors(shader.defs, { compute: { entryPoint } });
      const layout = this.device.createBindGroupLayout(desc ?? { entries: [] });
      const pipeline = this.device.createComputePipeline({
        label: entryPoint,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module: shader.module, entryPoint, constants },
      });
      cached = { pipeline, layout, defs: shader.defs };
      shader.pipelines.set(key, cached);
    }
    return cached;
  }

  /** The bytes of uniform variable `name` of `code` holding `values`, laid out as WGSL lays it out. */
  uniformBytes(code: string, name: string, values: Record<string, number | number[]>): Uint8Array {
    const shader = this.shader(code);
    let entry = shader.views.get(name);
    if (!entry) {
      const def = shader.defs.uniforms[name];
      if (!def) throw new Error(`WGSL has no uniform '${name}'`);
      entry = { view: makeStructuredView(def), fields: Object.keys((def.typeDefinition as StructDefinition).fields ?? {}) };
      shader.views.set(name, entry);
    }
    const missing = entry.fields.filter((f) => !(f in values));
    if (missing.length > 0) throw new Error(`uniform '${name}' is missing ${missing.join(", ")}`);
    const { view } = entry;
    view.set(values);
    return new Uint8Array(view.arrayBuffer);
  }

  private shader(code: string): Shader {
    let shader = this.shaders.get(code);
    if (!shader) {
      shader = {
        module: this.device.createShaderModule({ code }),
        defs: makeShaderDataDefinitions(code),
        views: new Map(),
        pipelines: new Map(),
      };
      this.shaders.set(code, shader);
    }
    return shader;
  }
}
