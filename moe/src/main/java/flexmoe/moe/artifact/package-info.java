/**
 * FlexOlmo's artifacts and their composition: the public model and each expert as separate safetensors files with
 * Hugging Face tensor names and JSON metadata, composed into one MoE model with any subset of experts, and experts
 * opted in or out by name at inference time.
 *
 * <ul>
 *   <li>{@link flexmoe.moe.artifact.SafeTensors}: the container format (reading validates everything before it
 *       allocates; writing is deterministic and atomic).</li>
 *   <li>{@link flexmoe.moe.artifact.Artifact} and its three kinds, {@link flexmoe.moe.artifact.PublicModelArtifact},
 *       {@link flexmoe.moe.artifact.ExpertArtifact}, {@link flexmoe.moe.artifact.ComposedModel}: the tensor layout of
 *       each file; {@link flexmoe.moe.artifact.ArtifactMetadata}: the metadata schema; the
 *       {@link flexmoe.moe.artifact.ArtifactFingerprint} (SHA-256 of the file) ties an expert to its public model.</li>
 *   <li>{@link flexmoe.moe.artifact.Composer}: the merge (stack router rows, biases and FFNs; refuse an expert of
 *       another public model); {@link flexmoe.moe.artifact.ComposedModel#optOut}: removal, bit-identical to never
 *       having composed the expert.</li>
 *   <li>{@link flexmoe.moe.artifact.RoutingStats}: the paper's routing analysis.</li>
 * </ul>
 *
 * <p>The life of an expert: the public model is saved with its router embedding r_pub
 * ({@code PublicModelArtifact.create(...).withRouterEmbedding(rPub).save(file)}); a data owner loads it, trains a
 * 2-expert model on their data and saves {@code ExpertArtifact.fromTrainingModel(trained, publicModel, part)}, which
 * records the public file's fingerprint; anyone composes the public model with any experts
 * ({@code Composer.compose(publicModel, experts, topK)}) and runs {@code composed.parameters()}.
 */
package flexmoe.moe.artifact;
