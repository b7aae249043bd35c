package flexmoe.kernels.jvm;

import flexmoe.kernels.Backend;
import flexmoe.kernels.GemmOps;
import flexmoe.kernels.MoeOps;
import flexmoe.kernels.TrainingOps;

/** The always-present backend: kernel bodies on the JVM's threads, Vector API for the hot kernels. */
public final class JvmBackend implements Backend {

    private final ParallelRunner runner;
    private final GemmOps gemm;
    private final TrainingOps training;
    private final MoeOps moe;

    public JvmBackend(int threads) {
        this.runner = new ParallelRunner(threads);
        this.gemm = new JvmGemmOps(runner);
        this.training = new JvmTrainingOps(runner);
        this.moe = new JvmMoeOps(runner);
    }

    @Override
    public String name() {
        return JvmBackendProvider.NAME;
    }

    @Override
    public String device() {
        return "JVM " + Runtime.version() + " on " + System.getProperty("os.arch") + ", "
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
    public void close() {
        runner.close();
    }
}
