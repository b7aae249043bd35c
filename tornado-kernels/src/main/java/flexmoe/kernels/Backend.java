package flexmoe.kernels;

/**
 * A compute backend: runs the kernel bodies of this package on some device.
 *
 * <p>Operations are grouped by the part of the model they serve (one interface per group), so that a
 * backend can be read group by group and a new backend implements the same groups. Every operation
 * validates its arguments with {@link KernelArgs} before touching memory, whatever the backend.
 *
 * <p>Backends are found with {@link Backends}, through {@link BackendProvider} (ServiceLoader).
 */
public interface Backend extends AutoCloseable {

    /** The name users select the backend by, e.g. {@code "jvm"}. */
    String name();

    /** The device this backend runs on, in words (for run metadata). */
    String device();

    /** Worker threads (JVM) or a comparable degree of parallelism. */
    int threads();

    /** Matrix products in the three layouts training needs. */
    GemmOps gemm();

    /** Loss, optimizer, gradient clipping and per-example gradient norms. */
    TrainingOps training();

    /** Mixture-of-experts operations: SwiGLU, the FlexOlmo router, dropless dispatch. */
    MoeOps moe();

    /** Embedding, RMSNorm, RoPE, attention, softmax and residual ops of the dense transformer. */
    TransformerOps transformer();

    /** Releases threads and device memory. */
    @Override
    void close();
}
