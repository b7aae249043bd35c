package flexmoe.moe.model;

/**
 * The training loss of one forward and its parts: {@code total = crossEntropy + lmHeadZLoss + routerZLoss}.
 * {@code crossEntropy} and {@code lmHeadZLoss} are means over the tokens with a target (lmHeadZLoss =
 * weight * mean lse²); {@code routerZLoss} sums, over the MoE layers, weight * the mean over all tokens of
 * lse(router logits)² (0 for a dense model).
 */
public record Loss(double total, double crossEntropy, double lmHeadZLoss, double routerZLoss, int validTokens) {
}
