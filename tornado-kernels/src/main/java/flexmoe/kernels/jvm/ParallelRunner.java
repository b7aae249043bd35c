package flexmoe.kernels.jvm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a loop body over {@code [0, n)} on a fixed set of worker threads.
 *
 * <p>Determinism: the range is cut into chunks whose boundaries depend only on {@code n} and the grain,
 * never on the thread count, and a kernel computes each output element inside one chunk in a fixed
 * order. Which thread runs a chunk therefore cannot change any bit of the result.
 */
public final class ParallelRunner implements AutoCloseable {

    /** A body over the half-open index range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;
    private final ExecutorService pool;

    public ParallelRunner(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, runnable -> {
            Thread t = new Thread(runnable, "flexmoe-jvm-worker");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks of {@code grain} indices (the last may be shorter).
     * The calling thread takes part; the call returns when every chunk is done.
     */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunkSize = Math.max(1, grain);
        int chunks = (n + chunkSize - 1) / chunkSize;
        if (pool == null || chunks == 1) {
            body.run(0, n);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                int start = c * chunkSize;
                body.run(start, Math.min(n, start + chunkSize));
            }
        };
        int helpers = Math.min(threads, chunks) - 1;
        List<Future<?>> futures = new ArrayList<>(helpers);
        for (int i = 0; i < helpers; i++) {
            futures.add(pool.submit(worker));
        }
        Throwable failure = null;
        try {
            worker.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("parallel kernel interrupted", failure);
        }
    }

    /**
     * A grain that gives each chunk roughly {@code targetWork} units when one index costs
     * {@code workPerIndex}; at least 1. Depends on the problem only, never on the thread count.
     */
    public static int grainFor(long workPerIndex, long targetWork) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, targetWork / Math.max(1, workPerIndex)));
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
