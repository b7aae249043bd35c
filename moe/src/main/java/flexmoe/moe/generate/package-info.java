/**
 * Generation: the inference forward with a key/value cache ({@link flexmoe.moe.model.InferenceSession}: prefill,
 * then one token per step, logits equal to the training forward's), and sampling from it
 * ({@link flexmoe.moe.generate.Generator} with {@link flexmoe.moe.generate.Sampling}: greedy, temperature, top-k,
 * top-p, seeded and reproducible; stops at the end-of-document token, a token budget or a full context).
 */
package flexmoe.moe.generate;
