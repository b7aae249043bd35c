package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.kernels.KernelSelfCheck;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Checks the kernels of the selected backend against their plain bodies and prints a short GEMM throughput summary
 * on the model's shapes.
 */
@Command(name = "selfcheck", mixinStandardHelpOptions = true,
        description = "Check the kernels on this machine and print a GEMM throughput summary.")
final class SelfcheckCommand implements Callable<Integer> {

    @Mixin
    BackendArgs backendArgs = new BackendArgs();

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        try (Backend backend = backendArgs.create();
             Backend reference = Backends.create("reference", 1)) {
            System.out.println("flexmoe selfcheck on " + backend.device());
            System.out.println();
            System.out.println("Kernel self-check (" + backend.name() + " vs the plain kernel bodies, same inputs):");
            List<KernelSelfCheck.Result> results = KernelSelfCheck.run(backend, reference, seed);
            // One line per operation: its worst output relative to that output's tolerance.
            Map<String, KernelSelfCheck.Result> worst = new LinkedHashMap<>();
            for (KernelSelfCheck.Result r : results) {
                worst.merge(r.kernel(), r, (x, y) ->
                        y.maxAbsError() / y.tolerance() > x.maxAbsError() / x.tolerance() ? y : x);
            }
            int failed = 0;
            for (KernelSelfCheck.Result r : worst.values()) {
                System.out.printf("  %-30s max |diff| %.1e (%s)  %s%n", r.kernel(), r.maxAbsError(), r.output(),
                        r.passed() ? "ok" : "FAILED, tolerance " + String.format("%.1e", r.tolerance()));
                failed += r.passed() ? 0 : 1;
            }
            System.out.println();
            System.out.println("GEMM throughput (forward shapes tokens x in -> out, best of 5; JMH in benchmarks/ is the"
                    + " careful measurement):");
            int[][] shapes = {{4096, 256, 1024}, {4096, 1024, 256}, {4096, 512, 2048}};
            SplittableRandom rng = new SplittableRandom(seed);
            for (int[] s : shapes) {
                int m = s[0], k = s[1], n = s[2];
                float[] a = new float[m * k];
                float[] b = new float[n * k];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) rng.nextDouble();
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) rng.nextDouble();
                }
                float[] c = new float[m * n];
                long best = Long.MAX_VALUE;
                for (int rep = 0; rep < 5; rep++) {
                    long t0 = System.nanoTime();
                    backend.gemm().matmulNT(a, 0, b, 0, c, 0, m, n, k, false);
                    best = Math.min(best, System.nanoTime() - t0);
                }
                System.out.printf("  %dx%d -> %d: %.1f GFLOP/s%n", m, k, n, 2.0 * m * n * k / best);
            }
            if (failed > 0) {
                System.err.println("flexmoe: " + failed + " kernel check(s) failed");
                return 1;
            }
            return 0;
        }
    }
}
