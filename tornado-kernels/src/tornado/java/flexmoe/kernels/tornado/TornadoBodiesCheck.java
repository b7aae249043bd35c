package flexmoe.kernels.tornado;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TaskPackage;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;

/**
 * Runs every registered kernel body through its launcher on TornadoVM's default device and compares it
 * with the same launcher run as plain Java (the launcher's {@code @Parallel} loops are ordinary loops
 * there, so that is the plain body). Started by {@code TornadoVmBodiesTest} in a JVM with the SDK's
 * options, {@code -Dtornado.recover.bailout=False} (a fallback to Java becomes an error) and
 * {@code -Dtornado.printKernel=True -Dtornado.print.kernel.dir=FILE} (generated code goes to FILE: a
 * case whose code did not grow FILE did not run on the device).
 *
 * <p>Usage: {@code TornadoBodiesCheck RESULTS SEED [CASE_REGEX]}. RESULTS gets tab-separated lines:
 * {@code device DESCRIPTION}, {@code cases COUNT}, then per case either
 * {@code case NAME MAXDIFF TOLERANCE GENERATED_CODE_CHARS} or {@code error NAME EXCEPTION}.
 * Exits 0 only when every case ran on the device within its tolerance.
 */
public final class TornadoBodiesCheck {

    private TornadoBodiesCheck() {
    }

    /** Every group's cases. A new group of bodies adds its launcher class here. */
    static List<DeviceCase> cases() {
        List<DeviceCase> all = new ArrayList<>();
        all.addAll(GemmLaunchers.cases());
        all.addAll(CrossEntropyLaunchers.cases());
        all.addAll(AdamWLaunchers.cases());
        all.addAll(GradNormLaunchers.cases());
        all.addAll(PerExampleNormLaunchers.cases());
        all.addAll(TransformerLaunchers.cases());
        all.addAll(MoeLaunchers.cases());
        // Every case's written arrays are copied in first: TornadoVM skips the transfer of write-only ones.
        return CopyIn.all(all);
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: TornadoBodiesCheck RESULTS SEED [CASE_REGEX]");
            System.exit(2);
        }
        Path results = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        Pattern filter = Pattern.compile(args.length > 2 ? args[2] : ".*");
        String dumpDir = System.getProperty("tornado.print.kernel.dir", "");
        Path generated = dumpDir.isEmpty() ? null : Path.of(dumpDir);

        List<DeviceCase> selected = cases().stream().filter(c -> filter.matcher(c.name()).matches()).toList();
        boolean allPassed = !selected.isEmpty();
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(results), true)) {
            TornadoDevice device = TornadoExecutionPlan.DEFAULT_DEVICE;
            out.println("device\t" + device.getDeviceName() + " (" + device.getDescription() + ")");
            out.println("cases\t" + selected.size());
            int index = 0;
            for (DeviceCase c : selected) {
                // Inputs depend on the seed and the case's name only: adding a case changes no other case's inputs.
                SplittableRandom rng = new SplittableRandom(seed * 31 + c.name().hashCode());
                try {
                    long before = size(generated);
                    double maxDiff = run(c, "check" + index, rng);
                    long code = generated == null ? -1 : size(generated) - before;
                    out.println("case\t" + c.name() + "\t" + maxDiff + "\t" + c.tolerance() + "\t" + code);
                    allPassed &= maxDiff <= c.tolerance() && code != 0;
                } catch (Throwable t) {
                    t.printStackTrace();
                    out.println("error\t" + c.name() + "\t" + describe(t));
                    allPassed = false;
                }
                index++;
            }
        }
        System.exit(allPassed ? 0 : 1);
    }

    /**
     * Runs a case on the device, then as plain Java from the same inputs, and returns the largest absolute
     * difference over every array argument (inputs too: a body that wrote into one would show up).
     */
    static double run(DeviceCase c, String graphName, SplittableRandom rng) throws ReflectiveOperationException {
        List<TaskPackage> tasks = c.tasks().apply(new DeviceCase.Inputs(rng));
        List<Object> arrays = arrayArguments(tasks);
        List<Object> initial = arrays.stream().map(TornadoBodiesCheck::copy).toList();

        // Every array goes in and comes back on every run: simple and safe for a check (rule 1: parts of an
        // output array a graph does not write would otherwise come back as garbage).
        Object[] all = arrays.toArray();
        TaskGraph graph = new TaskGraph(graphName).transferToDevice(DataTransferMode.EVERY_EXECUTION, all);
        tasks.forEach(graph::addTask);
        graph.transferToHost(DataTransferMode.EVERY_EXECUTION, all);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())) {
            plan.execute();
        } catch (Exception e) {
            throw new IllegalStateException("TornadoVM run of " + c.name() + " failed", e);
        }
        List<Object> onDevice = arrays.stream().map(TornadoBodiesCheck::copy).toList();

        for (int i = 0; i < arrays.size(); i++) {
            restore(initial.get(i), arrays.get(i));
        }
        for (TaskPackage task : tasks) {
            runInJava(task);
        }

        double maxDiff = 0;
        for (int i = 0; i < arrays.size(); i++) {
            maxDiff = Math.max(maxDiff, maxAbsDiff(onDevice.get(i), arrays.get(i)));
        }
        return maxDiff;
    }

    /** The distinct array arguments of the tasks, in order of first use (element 0 of the parameters is the code). */
    private static List<Object> arrayArguments(List<TaskPackage> tasks) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Object> arrays = new ArrayList<>();
        for (TaskPackage task : tasks) {
            Object[] parameters = task.getTaskParameters();
            for (int i = 1; i < parameters.length; i++) {
                Object p = parameters[i];
                if (p != null && p.getClass().isArray() && seen.add(p)) {
                    arrays.add(p);
                }
            }
        }
        return arrays;
    }

    /** Calls the launcher through the task's functional interface, exactly as TornadoVM was handed it. */
    private static void runInJava(TaskPackage task) throws ReflectiveOperationException {
        Object[] parameters = task.getTaskParameters();
        Object code = parameters[0];
        Object[] arguments = Arrays.copyOfRange(parameters, 1, parameters.length);
        for (Class<?> type : code.getClass().getInterfaces()) {
            for (Method m : type.getMethods()) {
                if (m.getName().equals("apply") && m.getParameterCount() == arguments.length) {
                    try {
                        m.invoke(code, arguments);
                    } catch (InvocationTargetException e) {
                        throw new IllegalStateException("Java run of task " + task.getId() + " failed", e.getCause());
                    }
                    return;
                }
            }
        }
        throw new IllegalStateException("task " + task.getId() + ": no apply method with " + arguments.length
                + " parameters on " + code.getClass());
    }

    private static Object copy(Object array) {
        return switch (array) {
            case float[] f -> f.clone();
            case int[] i -> i.clone();
            default -> throw new IllegalArgumentException("unsupported array argument type " + array.getClass()
                    + " (add it to TornadoBodiesCheck.copy/restore/maxAbsDiff)");
        };
    }

    private static void restore(Object from, Object to) {
        System.arraycopy(from, 0, to, 0, Array.getLength(from));
    }

    /** NaN in the same place on both sides counts as equal; NaN on one side only as an infinite difference. */
    private static double maxAbsDiff(Object device, Object java) {
        double max = 0;
        if (device instanceof float[] d && java instanceof float[] j) {
            for (int i = 0; i < d.length; i++) {
                if (Float.isNaN(d[i]) && Float.isNaN(j[i])) {
                    continue;
                }
                double diff = Math.abs((double) d[i] - j[i]);
                max = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : Math.max(max, diff);
            }
        } else if (device instanceof int[] d && java instanceof int[] j) {
            for (int i = 0; i < d.length; i++) {
                max = Math.max(max, Math.abs((double) d[i] - j[i]));
            }
        } else {
            throw new IllegalArgumentException("unsupported array argument type " + device.getClass());
        }
        return max;
    }

    /** The exception and its causes on one line (TornadoVM's reason is usually in a cause). */
    private static String describe(Throwable t) {
        StringBuilder text = new StringBuilder();
        for (Throwable e = t; e != null; e = e.getCause()) {
            text.append(text.isEmpty() ? "" : " <- ").append(e);
        }
        String line = text.toString().replaceAll("\\s+", " ").replaceAll("\u001B\\[[0-9;]*m", "");
        return line.length() > 600 ? line.substring(0, 600) + "..." : line;
    }

    private static long size(Path file) throws IOException {
        return file == null || !Files.exists(file) ? 0 : Files.size(file);
    }
}
