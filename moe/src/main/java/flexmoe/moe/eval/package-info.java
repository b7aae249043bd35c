/**
 * Evaluation on held-out text, for any {@link flexmoe.moe.model.Parameters} (a dense public model, a composed
 * FlexOlmo model): bits per byte per domain ({@link flexmoe.moe.eval.BitsPerByte}, tokenizer-independent, with the
 * routing analysis: per layer, the share of tokens whose top-k includes each expert), a multiple-choice cloze task
 * built from held-out documents ({@link flexmoe.moe.eval.ClozeTask}, scored by {@link flexmoe.moe.eval.Cloze};
 * accuracy with a {@link flexmoe.moe.eval.Wilson} interval), and the logits of a token sequence as a NumPy
 * {@code .npy} file ({@link flexmoe.moe.eval.Logits}, {@link flexmoe.moe.eval.Npy}). Every score runs through
 * {@link flexmoe.moe.eval.SequenceScorer}: batched prefills of the KV-cache forward and the backend's cross-entropy.
 */
package flexmoe.moe.eval;
