/**
 * Router embedding initialisation (FlexOlmo: each expert's router row r_i, and the public row r_pub, start as the
 * mean embedding of a sample of the domain's documents; the same vector seeds every layer).
 *
 * <p>{@link flexmoe.moe.router.RouterInit} is the strategy: {@code hidden-mean} (the public model's own final hidden
 * states, {@link flexmoe.moe.router.HiddenMeanInit}), {@code external} (a .npy / .safetensors file,
 * {@link flexmoe.moe.router.ExternalEmbeddingInit}), {@code random} (the ablation,
 * {@link flexmoe.moe.router.RandomInit}), and an off-the-shelf {@link flexmoe.moe.router.DocumentEmbedder} such as
 * all-MiniLM-L6-v2 ({@link flexmoe.moe.router.EmbedderInit}, directly at d_model or through an
 * {@link flexmoe.moe.router.EmbeddingProjection} fitted on public documents only). Documents come from
 * {@link flexmoe.moe.router.DomainSample}. Results are {@link flexmoe.moe.router.RouterEmbedding}s, kept as computed
 * (the paper does not renormalise) unless rescaled on purpose.
 *
 * <p>r_pub belongs with the public model: computed once from public documents with the chosen strategy, frozen, and
 * identical for every expert trained against that public model (the artifact stores it with the public model).
 */
package flexmoe.moe.router;
