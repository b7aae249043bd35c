package flexmoe.moe.generate;

/**
 * One generated sample: the new tokens (the prompt not included, an end-of-document token not included) and
 * why generation stopped.
 */
public record Generation(int[] tokens, StopReason stop) {
}
