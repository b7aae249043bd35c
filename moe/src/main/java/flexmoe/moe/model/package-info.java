/**
 * The FlexOlmo model: configuration ({@link flexmoe.moe.model.ModelConfig}, presets tiny / quick / paper-mini),
 * parameters ({@link flexmoe.moe.model.Parameters}), the forward / backward
 * ({@link flexmoe.moe.model.FlexOlmoModel}) and the inference forward with a key/value cache
 * ({@link flexmoe.moe.model.InferenceSession}, which runs the model's own block forward).
 *
 * <p>Design, in the order a reader meets it:
 * <ul>
 *   <li>Storage: one {@link flexmoe.moe.model.Tensor} (its own {@code float[]}, shape, optional gradient) per
 *       parameter, named as in Hugging Face OLMo-2 / FlexOlmo ({@link flexmoe.moe.model.ParameterNames}). Not
 *       llm.c's single flat buffer: FlexOlmo moves experts between models (upcycle, compose, opt-out), so each
 *       expert's tensors ({@link flexmoe.moe.model.ExpertLayer}: FFN, router row, bias) are objects of their
 *       own, and the router matrix [E, D] is stored as E rows so that one row can train while the others stay
 *       frozen. Each expert's gate and up projections are stored fused as one [2F, D] tensor (one GEMM each
 *       way, {@code MoeOps.swigluFused*}); {@link flexmoe.moe.model.Parameters#huggingFaceTensors()} splits
 *       them back into {@code gate_proj} / {@code up_proj} and stacks router rows and biases.</li>
 *   <li>Trainability is per tensor: a frozen tensor has no gradient buffer, and the backward skips its
 *       weight-gradient GEMM, a frozen expert's whole backward where no gradient must pass through it, the
 *       router backward when nothing needs it, and every layer below the lowest trained one.</li>
 *   <li>Activations: allocated once per (batch, sequence) shape and reused; per-layer what the backward reads,
 *       gradient scratch shared across layers; the residual-stream gradient flows down in one buffer.</li>
 *   <li>Every FLOP runs through the {@link flexmoe.kernels.Backend}; the model holds no compute loops, only
 *       host bookkeeping (packing router rows, splitting the loss parts for reporting).</li>
 * </ul>
 */
package flexmoe.moe.model;
