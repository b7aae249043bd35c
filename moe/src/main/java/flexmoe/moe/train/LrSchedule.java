package flexmoe.moe.train;

/**
 * Learning rate by step (1-based, as the optimizer counts): linear warm-up from 0 to {@code peakLr} over
 * {@code warmupSteps}, cosine decay to {@code minLrRatio * peakLr} at step {@code totalSteps - annealSteps},
 * then, when {@code annealSteps > 0}, a linear anneal to 0 at {@code totalSteps} (OLMo-2's public model ends
 * with an anneal; FlexOlmo's experts branch from the annealed checkpoint). Past {@code totalSteps} the last
 * value holds. FlexOlmo's expert training uses warm-up then cosine to 0.1x (reference/FLEXOLMO.md).
 *
 * @param peakLr       the learning rate at the end of the warm-up
 * @param warmupSteps  steps of linear warm-up (0: start at the peak)
 * @param totalSteps   steps of the whole run
 * @param minLrRatio   floor of the cosine as a fraction of the peak, in [0, 1]
 * @param annealSteps  final steps of linear decay to 0 (0: none)
 */
public record LrSchedule(double peakLr, long warmupSteps, long totalSteps, double minLrRatio, long annealSteps) {

    public LrSchedule {
        if (!(peakLr >= 0) || !Double.isFinite(peakLr)) {
            throw new IllegalArgumentException("LrSchedule.peakLr: must be finite and non-negative, got " + peakLr);
        }
        if (totalSteps < 1) {
            throw new IllegalArgumentException("LrSchedule.totalSteps: must be at least 1, got " + totalSteps);
        }
        if (warmupSteps < 0 || annealSteps < 0) {
            throw new IllegalArgumentException("LrSchedule.warmupSteps/annealSteps: must be non-negative, got "
                    + warmupSteps + " / " + annealSteps);
        }
        if (warmupSteps + annealSteps > totalSteps) {
            throw new IllegalArgumentException("LrSchedule.warmupSteps + annealSteps: " + warmupSteps + " + "
                    + annealSteps + " exceeds totalSteps " + totalSteps);
        }
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw new IllegalArgumentException("LrSchedule.minLrRatio: must be in [0, 1], got " + minLrRatio);
        }
    }

    /** Warm-up then cosine to 0.1x, no anneal (FlexOlmo's expert-training shape). */
    public static LrSchedule cosine(double peakLr, long warmupSteps, long totalSteps) {
        return new LrSchedule(peakLr, warmupSteps, totalSteps, 0.1, 0);
    }

    /** A constant rate (tests, router tuning sweeps). */
    public static LrSchedule constant(double lr) {
        return new LrSchedule(lr, 0, 1, 1, 0);
    }

    /** The rate for step {@code step} >= 1. */
    public double lr(long step) {
        if (step < 1) {
            throw new IllegalArgumentException("LrSchedule.lr: step must be at least 1, got " + step);
        }
        long s = Math.min(step, totalSteps);
        if (s <= warmupSteps) {
            return peakLr * s / warmupSteps;
        }
        long cosineEnd = totalSteps - annealSteps;
        if (s <= cosineEnd) {
            return cosineAt(s);
        }
        // Linear from the cosine's last value at cosineEnd to 0 at totalSteps.
        double start = cosineEnd > warmupSteps ? cosineAt(cosineEnd) : peakLr;
        return start * (totalSteps - s) / (double) annealSteps;
    }

    private double cosineAt(long s) {
        long span = totalSteps - annealSteps - warmupSteps;
        double progress = span == 0 ? 1 : (s - warmupSteps) / (double) span;
        double floor = minLrRatio * peakLr;
        return floor + (peakLr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
