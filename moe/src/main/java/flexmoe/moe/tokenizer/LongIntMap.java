package flexmoe.moe.tokenizer;

import java.util.Arrays;

/**
 * Open-addressing hash map from non-negative {@code long} keys (a token pair packed as {@code left << 32 | right})
 * to {@code int}, without boxing: the merge-rank lookup in the encoding loop and the pair counts in training.
 */
final class LongIntMap {

    private static final long EMPTY = -1L;

    private long[] keys;
    private int[] values;
    private int size;
    private int mask;

    LongIntMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        allocate(capacity);
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    static int left(long pair) {
        return (int) (pair >>> 32);
    }

    static int right(long pair) {
        return (int) pair;
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        values = new int[capacity];
        mask = capacity - 1;
    }

    private int slot(long key) {
        // Fibonacci hashing spreads the packed pairs, whose low bits alone are badly distributed.
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    int size() {
        return size;
    }

    /** The value of {@code key}, or {@code missing}. */
    int get(long key, int missing) {
        long[] k = keys;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long found = k[i];
            if (found == key) {
                return values[i];
            }
            if (found == EMPTY) {
                return missing;
            }
        }
    }

    void put(long key, int value) {
        int i = find(key);
        if (keys[i] == EMPTY) {
            insert(i, key, value);
        } else {
            values[i] = value;
        }
    }

    /** Adds {@code delta} to the value of {@code key} (0 when absent) and returns the new value. */
    int add(long key, int delta) {
        int i = find(key);
        if (keys[i] == EMPTY) {
            insert(i, key, delta);
            return delta;
        }
        return values[i] += delta;
    }

    /** Calls {@code action} for every entry, in slot order (not a meaningful order). */
    void forEach(Entry action) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                action.accept(keys[i], values[i]);
            }
        }
    }

    interface Entry {
        void accept(long key, int value);
    }

    private int find(long key) {
        if (key < 0) {
            throw new IllegalArgumentException("LongIntMap keys are non-negative, got " + key);
        }
        int i = slot(key);
        while (keys[i] != EMPTY && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void insert(int i, long key, int value) {
        keys[i] = key;
        values[i] = value;
        if (++size * 2 > keys.length) {
            long[] oldKeys = keys;
            int[] oldValues = values;
            allocate(keys.length * 2);
            size = 0;
            for (int j = 0; j < oldKeys.length; j++) {
                if (oldKeys[j] != EMPTY) {
                    int s = find(oldKeys[j]);
                    keys[s] = oldKeys[j];
                    values[s] = oldValues[j];
                    size++;
                }
            }
        }
    }
}
