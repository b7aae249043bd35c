package flexmoe.moe.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.TokenBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequenceLoaderTest {

    static final TokenizerFingerprint FP = TokenizerFingerprint.ofBytes(new byte[] {7});

    @TempDir
    Path dir;

    /** {@code n} sequences of {@code seqLen + 1} random tokens below {@code vocab}, packed into {@code file}. */
    static PackedSequences pack(Path file, int n, int seqLen, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        try (PackedSequences.Writer w = new PackedSequences.Writer(file, vocab, seqLen, FP)) {
            for (int i = 0; i < n * (seqLen + 1); i++) {
                w.append(rng.nextInt(vocab));
            }
            w.documentEnded();
            w.commit();
        }
        return PackedSequences.load(file);
    }

    /** The index of the packed sequence whose inputs are row {@code b} of the batch. */
    private static int sequenceOf(PackedSequences p, TokenBatch batch, int b) {
        int s = p.seqLen();
        for (int i = 0; i < p.sequenceCount(); i++) {
            int[] seq = p.sequence(i);
            if (Arrays.equals(seq, 0, s, batch.inputs(), b * s, (b + 1) * s)) {
                assertThat(Arrays.copyOfRange(batch.targets(), b * s, (b + 1) * s))
                        .containsExactly(Arrays.copyOfRange(seq, 1, s + 1));
                return i;
            }
        }
        throw new AssertionError("batch row " + b + " is no packed sequence");
    }

    @Test
    void everyEpochVisitsEverySequenceOnceInAnotherShuffledOrder() {
        PackedSequences p = pack(dir.resolve("a.bin"), 10, 8, 50, 1);
        SequenceLoader loader = new SequenceLoader(p, 5, 42);
        List<Integer> seen = new ArrayList<>();
        for (int step = 0; step < 6; step++) {
            TokenBatch b = loader.next();
            assertThat(b.batch()).isEqualTo(5);
            assertThat(b.seq()).isEqualTo(8);
            for (int r = 0; r < 5; r++) {
                seen.add(sequenceOf(p, b, r));
            }
        }
        List<List<Integer>> epochs = List.of(seen.subList(0, 10), seen.subList(10, 20), seen.subList(20, 30));
        for (List<Integer> e : epochs) {
            assertThat(e).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        }
        assertThat(epochs.get(1)).isNotEqualTo(epochs.get(0));
        assertThat(epochs.get(0)).isNotEqualTo(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        assertThat(loader.cursor()).isEqualTo(new SequenceLoader.Cursor(2, 10));
    }

    @Test
    void aBatchCrossingTheEpochEndContinuesInTheNextEpoch() {
        PackedSequences p = pack(dir.resolve("a.bin"), 5, 4, 30, 2);
        SequenceLoader loader = new SequenceLoader(p, 3, 1);
        loader.next();
        TokenBatch second = loader.next(); // sequences 4, 5 of epoch 0, then 1 of epoch 1
        assertThat(loader.cursor()).isEqualTo(new SequenceLoader.Cursor(1, 1));
        assertThat(second.batch()).isEqualTo(3);
    }

    @Test
    void sameSeedSameBatchesOtherSeedOtherOrder() {
        PackedSequences p = pack(dir.resolve("a.bin"), 12, 4, 30, 3);
        SequenceLoader a = new SequenceLoader(p, 4, 9);
        SequenceLoader b = new SequenceLoader(p, 4, 9);
        SequenceLoader c = new SequenceLoader(p, 4, 10);
        boolean differs = false;
        for (int i = 0; i < 6; i++) {
            TokenBatch x = a.next();
            assertThat(b.next().inputs()).containsExactly(x.inputs());
            differs |= !Arrays.equals(c.next().inputs(), x.inputs());
        }
        assertThat(differs).isTrue();
    }

    @Test
    void aRestoredCursorGivesTheSameBatches() {
        PackedSequences p = pack(dir.resolve("a.bin"), 7, 4, 30, 4);
        SequenceLoader a = new SequenceLoader(p, 3, 5);
        for (int i = 0; i < 4; i++) {
            a.next();
        }
        SequenceLoader.Cursor cursor = a.cursor();
        SequenceLoader b = new SequenceLoader(p, 3, 5);
        b.restore(cursor);
        assertThat(b.cursor()).isEqualTo(cursor);
        for (int i = 0; i < 5; i++) {
            assertThat(b.next().inputs()).containsExactly(a.next().inputs());
        }
    }

    @Test
    void refusesAnEmptyFileABadBatchAndABadCursor() {
        PackedSequences empty = pack(dir.resolve("empty.bin"), 0, 4, 30, 5);
        assertThatThrownBy(() -> new SequenceLoader(empty, 2, 1)).hasMessageContaining("empty.bin: holds no sequence");
        PackedSequences p = pack(dir.resolve("a.bin"), 3, 4, 30, 5);
        assertThatThrownBy(() -> new SequenceLoader(p, 0, 1)).hasMessage("batch size must be at least 1, got 0");
        SequenceLoader loader = new SequenceLoader(p, 2, 1);
        assertThatThrownBy(() -> loader.restore(new SequenceLoader.Cursor(0, 4)))
                .hasMessageContaining("position 4 is past the 3 sequences");
        assertThatThrownBy(() -> new SequenceLoader.Cursor(-1, 0)).hasMessageContaining("non-negative");
    }
}
