package flexmoe.kernels.jvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The worker hand-off: every index exactly once for any size, grain and thread count, the workers really
 * take part (also after idle gaps), failures reach the caller and leave the runner usable, and calls from
 * several threads.
 */
class ParallelRunnerTest {

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads = 1; threads <= 4; threads++) {
            try (ParallelRunner runner = new ParallelRunner(threads)) {
                for (int n : new int[] {1, 2, 3, 7, 64, 1000}) {
                    for (int grain : new int[] {1, 3, 64, 5000}) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(n);
                        runner.forRange(n, grain, (start, end) -> {
                            // Chunks start on grain boundaries (one thread may run the whole range at once).
                            assertThat(start % grain).isZero();
                            assertThat(end).isGreaterThan(start);
                            for (int i = start; i < end; i++) {
                                hits.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertThat(hits.get(i)).as("index %d of n %d, grain %d, %d threads", i, n, grain, threads)
                                    .isEqualTo(1);
                        }
                    }
                }
                runner.forRange(0, 1, (start, end) -> {
                    throw new AssertionError("an empty range runs nothing");
                });
            }
        }
    }

    @Test
    void workersTakePartAndWakeAfterLongIdleGaps() throws InterruptedException {
        try (ParallelRunner runner = new ParallelRunner(2)) {
            for (int call = 0; call < 5; call++) {
                Thread.sleep(5); // an idle gap: the worker has parked and must be woken
                Thread caller = Thread.currentThread();
                ConcurrentHashMap<Thread, Boolean> seen = new ConcurrentHashMap<>();
                CountDownLatch both = new CountDownLatch(2);
                // Two chunks that each wait for the other: completes only if two threads run them at once.
                runner.forRange(2, 1, (start, end) -> {
                    seen.put(Thread.currentThread(), true);
                    both.countDown();
                    try {
                        assertThat(both.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertThat(seen).hasSize(2).containsKey(caller);
            }
        }
    }

    @Test
    void theFirstFailureReachesTheCallerAndTheRunnerStaysUsable() {
        try (ParallelRunner runner = new ParallelRunner(2)) {
            assertThatThrownBy(() -> runner.forRange(100, 1, (start, end) -> {
                if (start == 37) {
                    throw new IllegalArgumentException("chunk 37 failed");
                }
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("chunk 37 failed");
            assertThatThrownBy(() -> runner.forRange(10, 1, (start, end) -> {
                throw new OutOfMemoryError("simulated");
            })).isInstanceOf(OutOfMemoryError.class);
            AtomicInteger sum = new AtomicInteger();
            runner.forRange(100, 7, (start, end) -> sum.addAndGet(end - start));
            assertThat(sum.get()).isEqualTo(100);
        }
    }

    @Test
    void callsFromSeveralThreadsComplete() throws InterruptedException {
        try (ParallelRunner runner = new ParallelRunner(2)) {
            AtomicInteger total = new AtomicInteger();
            Thread[] callers = new Thread[3];
            for (int c = 0; c < callers.length; c++) {
                callers[c] = new Thread(() -> {
                    for (int rep = 0; rep < 200; rep++) {
                        runner.forRange(16, 1, (s, e) -> total.addAndGet(e - s));
                    }
                });
                callers[c].start();
            }
            for (Thread t : callers) {
                t.join(30_000);
                assertThat(t.isAlive()).isFalse();
            }
            assertThat(total.get()).isEqualTo(3 * 200 * 16);
        }
    }

    @Test
    void aRunnerNeedsAThread() {
        assertThatThrownBy(() -> new ParallelRunner(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("threads: expected at least 1, got 0");
    }
}
