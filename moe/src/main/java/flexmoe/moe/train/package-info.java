/**
 * Training: the learning-rate schedule ({@link flexmoe.moe.train.LrSchedule}), AdamW with per-tensor state
 * ({@link flexmoe.moe.train.AdamW}) and one training step ({@link flexmoe.moe.train.Trainer}: zero gradients,
 * forward and backward, global-norm clipping of the trainable gradients, AdamW).
 */
package flexmoe.moe.train;
