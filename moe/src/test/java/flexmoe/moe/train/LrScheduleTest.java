package flexmoe.moe.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void warmupThenCosineToTheFloor() {
        LrSchedule s = LrSchedule.cosine(1e-3, 10, 110);
        assertThat(s.lr(1)).isCloseTo(1e-4, within(1e-15));
        assertThat(s.lr(5)).isCloseTo(5e-4, within(1e-15));
        assertThat(s.lr(10)).isEqualTo(1e-3);
        assertThat(s.lr(60)).isCloseTo(0.55e-3, within(1e-12)); // half-way: (peak + floor) / 2
        assertThat(s.lr(110)).isCloseTo(1e-4, within(1e-15));
        assertThat(s.lr(500)).isEqualTo(s.lr(110));
        for (long step = 11; step < 110; step++) {
            assertThat(s.lr(step + 1)).isLessThan(s.lr(step));
        }
    }

    @Test
    void annealGoesLinearlyToZero() {
        LrSchedule s = new LrSchedule(1.0, 0, 100, 0.1, 20);
        assertThat(s.lr(1)).isCloseTo(1.0, within(1e-3));
        assertThat(s.lr(80)).isCloseTo(0.1, within(1e-12));
        assertThat(s.lr(90)).isCloseTo(0.05, within(1e-12));
        assertThat(s.lr(100)).isZero();
        LrSchedule onlyAnneal = new LrSchedule(2.0, 5, 10, 0.1, 5);
        assertThat(onlyAnneal.lr(5)).isEqualTo(2.0);
        assertThat(onlyAnneal.lr(6)).isCloseTo(1.6, within(1e-12));
        assertThat(LrSchedule.constant(0.3).lr(1000)).isEqualTo(0.3);
    }

    @Test
    void badSchedules() {
        assertThatThrownBy(() -> new LrSchedule(1, 60, 100, 0.1, 50))
                .hasMessage("LrSchedule.warmupSteps + annealSteps: 60 + 50 exceeds totalSteps 100");
        assertThatThrownBy(() -> new LrSchedule(-1, 0, 100, 0.1, 0))
                .hasMessage("LrSchedule.peakLr: must be finite and non-negative, got -1.0");
        assertThatThrownBy(() -> new LrSchedule(1, 0, 100, 1.5, 0))
                .hasMessage("LrSchedule.minLrRatio: must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> LrSchedule.constant(1).lr(0)).hasMessage("LrSchedule.lr: step must be at least 1, got 0");
        assertThatThrownBy(() -> new AdamWConfig(0.9, 1.0, 1e-8, 0, 1))
                .hasMessage("AdamWConfig.beta2: must be in [0, 1), got 1.0");
        assertThatThrownBy(() -> new AdamWConfig(0.9, 0.95, 1e-8, 0, 0))
                .hasMessage("AdamWConfig.maxGradNorm: must be positive (Infinity: no clipping), got 0.0");
    }
}
