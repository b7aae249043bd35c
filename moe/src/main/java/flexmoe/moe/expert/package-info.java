/**
 * Setting up what trains: FlexOlmo's coordinated expert training ({@link flexmoe.moe.expert.CoordinatedTraining}:
 * upcycle the dense public model into [frozen public FFN, trainable copy], top-2 of 2, router rows [r_pub, r_i],
 * the expert bias {@link flexmoe.moe.expert.ExpertBias}) and the baselines' dense continued pretraining
 * ({@link flexmoe.moe.expert.DenseContinuedPretraining}).
 */
package flexmoe.moe.expert;
