import { parserFuzzSuite } from "./parser-fuzz-suite";

parserFuzzSuite(["safetensors", "GGUF", "llama2.c .bin", "llama2.c tokenizer.bin"]);
