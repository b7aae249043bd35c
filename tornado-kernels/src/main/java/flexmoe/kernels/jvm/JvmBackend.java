package flexmoe.kernels.jvm;

import flexmoe.kernels.Backend;
import flexmoe.kernels.GemmOps;
import flexmoe.kernels.MoeOps;
import flexmoe.kernels.TrainingOps;
import flexmoe.kernels.TransformerOps;

/**
 * The always-present backend: kernel bodies on the JVM's threads, Vector API for the hot kernels. The
 * same class, with {@code vectorized = false}, is the {@code reference} backend: the plain bodies only,
 * which is what every optimised kernel (and every other backend) is checked against.
 */
public final class JvmBackend implements Backend {

    private final String name;
    private final ParallelRunner runner;
    private final GemmOps gemm;
    private final TrainingOps training;
    private final MoeOps moe;
    private final TransformerOps transformer;

    public JvmBackend(int threads, boolean vectorized) {
        this.name = vectorized ? JvmBackendProvider.NAME : ReferenceBackendProvider.NAME;
        this.runner = new ParallelRunner(threads);
        this.gemm = vectorized ? new JvmGemmOps(runner) : new PlainGemmOps(runner);
        this.training = new JvmTrainingOps(runner, vectorized);
        this.moe = new JvmMoeOps(runner, vectorized);
        this.transformer = new JvmTransformerOps(runner, vectorized);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String device() {
        return (name.equals(ReferenceBackendProvider.NAME) ? "plain kernel bodies on JVM " : "JVM ")
                + Runtime.version() + " on " + System.getProperty("os.arch") + ", "
                + runner.threads() + " thread(s)";
    }

    @Override
    public int threads() {
        return runner.threads();
    }

    @Override
    public GemmOps gemm() {
        return gemm;
    }

    @Override
    public TrainingOps training() {
        return training;
    }

    @Override
    public MoeOps moe() {
        return moe;
    }

    @Override
    public TransformerOps transformer() {
        return transformer;
    }

    @Override
    public void close() {
        runner.close();
    }
}
