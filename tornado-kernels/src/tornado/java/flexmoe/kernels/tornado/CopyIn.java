package flexmoe.kernels.tornado;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * Makes TornadoVM copy every array a case writes to the device before the case runs, so that the elements
 * a body does not own (those before an output offset, or after the output region) come back unchanged and
 * can be compared.
 *
 * <p>Why it is needed (TornadoVM 5.2.0): the task graph decides what to copy from the kernel, not from
 * {@code transferToDevice}. An array argument that the compiled kernel only stores into is deduced
 * {@code WRITE_ONLY} and gets a device buffer without a host-to-device copy, even when the graph lists it in
 * {@code transferToDevice}; {@code transferToHost} then copies the whole buffer back, so every element the
 * kernel did not write returns as stale device memory (seen: 7e22, 0.0). With a write-only output at offset 2,
 * elements 0 and 1 came back as garbage. Bodies that read their output (GEMM's accumulate branch, += bodies)
 * are {@code READ_WRITE} and were never affected. For a production graph this means (reference/PERF.md
 * rule 1): an output that is part of a larger buffer (flat parameter/gradient storage) must be written
 * entirely by the graph, or be read by it too; whether a {@code persistOnDevice} buffer keeps its unwritten
 * part under a write-only kernel was not checked.
 *
 * <p>The fix here: the case's tasks are first run as plain Java (then the arrays are restored) to find the
 * arrays they write; in front of the case's own tasks, one task per written array reads and stores every
 * element ({@code a[i] = a[i]}), which the access analysis sees as {@code READ_WRITE}, so the array is copied
 * in; later tasks in the same graph use the same device buffer. The body's own kernel is compiled exactly as
 * without it. Only written arrays get one: each copy-in is one more kernel to compile (read-only inputs are
 * copied in anyway).
 */
final class CopyIn {

    private CopyIn() {
    }

    /** The cases, each with a copy-in task in front of its tasks for every array its tasks write. */
    static List<DeviceCase> all(List<DeviceCase> cases) {
        return cases.stream().map(c -> new DeviceCase(c.name(), c.tolerance(), in -> {
            List<TaskPackage> tasks = c.tasks().apply(in);
            List<TaskPackage> withCopies = new ArrayList<>();
            for (Object array : written(tasks)) {
                String id = "copyIn" + withCopies.size();
                withCopies.add(array instanceof float[] f ? TaskPackage.createPackage(id, CopyIn::floats, f)
                        : TaskPackage.createPackage(id, CopyIn::ints, (int[]) array));
            }
            withCopies.addAll(tasks);
            return withCopies;
        })).toList();
    }

    /** The float[]/int[] arguments that running the tasks as Java changes; their contents are left as they were. */
    private static List<Object> written(List<TaskPackage> tasks) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Object> arrays = new ArrayList<>();
        for (TaskPackage task : tasks) {
            for (Object p : task.getTaskParameters()) {
                if ((p instanceof float[] || p instanceof int[]) && seen.add(p)) {
                    arrays.add(p);
                }
            }
        }
        List<Object> before = arrays.stream().map(CopyIn::copy).toList();
        for (TaskPackage task : tasks) {
            runInJava(task);
        }
        List<Object> written = new ArrayList<>();
        for (int i = 0; i < arrays.size(); i++) {
            Object now = arrays.get(i);
            Object old = before.get(i);
            boolean same = now instanceof float[] f ? Arrays.equals(f, (float[]) old)
                    : Arrays.equals((int[]) now, (int[]) old);
            if (!same) {
                written.add(now);
            }
            System.arraycopy(old, 0, now, 0, Array.getLength(old));
        }
        return written;
    }

    private static Object copy(Object array) {
        return array instanceof float[] f ? f.clone() : ((int[]) array).clone();
    }

    /** Calls the launcher through the task's functional interface (element 0 of the parameters is the code). */
    private static void runInJava(TaskPackage task) {
        Object[] parameters = task.getTaskParameters();
        Object[] arguments = Arrays.copyOfRange(parameters, 1, parameters.length);
        for (Class<?> type : parameters[0].getClass().getInterfaces()) {
            for (Method m : type.getMethods()) {
                if (m.getName().equals("apply") && m.getParameterCount() == arguments.length) {
                    try {
                        m.invoke(parameters[0], arguments);
                        return;
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("Java run of task " + task.getId() + " failed", e);
                    }
                }
            }
        }
        throw new IllegalStateException("task " + task.getId() + ": no apply method with " + arguments.length
                + " parameters");
    }

    public static void floats(float[] a) {
        for (@Parallel int i = 0; i < a.length; i++) {
            a[i] = a[i];
        }
    }

    public static void ints(int[] a) {
        for (@Parallel int i = 0; i < a.length; i++) {
            a[i] = a[i];
        }
    }
}
