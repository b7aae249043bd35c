package flexmoe.moe.eval;

/**
 * The Wilson score interval of a binomial proportion: the p whose normal-approximation test does not reject the
 * observed {@code k / n}, i.e. the solutions of {@code |k/n - p| <= z sqrt(p (1 - p) / n)}. Unlike the plain
 * {@code p ± z sqrt(p(1-p)/n)} it stays inside [0, 1] and is not degenerate at 0 or n successes, which matters for
 * the small question counts of a per-domain cloze task.
 */
public final class Wilson {

    /** The two-sided 95% normal quantile. */
    public static final double Z95 = 1.959963984540054;

    public record Interval(double low, double high) {
    }

    private Wilson() {
    }

    /** The 95% interval of {@code successes} out of {@code n}; [0, 1] when n is 0. */
    public static Interval interval95(long successes, long n) {
        return interval(successes, n, Z95);
    }

    public static Interval interval(long successes, long n, double z) {
        if (n < 0 || successes < 0 || successes > n) {
            throw new IllegalArgumentException("Wilson interval: need 0 <= successes <= n, got " + successes + " of "
                    + n);
        }
        if (n == 0) {
            return new Interval(0, 1);
        }
        double p = (double) successes / n;
        double z2n = z * z / n;
        double center = (p + z2n / 2) / (1 + z2n);
        double half = z / (1 + z2n) * Math.sqrt(p * (1 - p) / n + z2n / (4 * n));
        return new Interval(Math.max(0, center - half), Math.min(1, center + half));
    }
}
