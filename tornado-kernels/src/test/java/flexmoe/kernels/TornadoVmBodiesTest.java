package flexmoe.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The kernel bodies, compiled by TornadoVM and run on its default device, match the same bodies run as
 * plain Java. Needs a TornadoVM SDK named by {@code TORNADOVM_HOME} and is skipped without one: the
 * default build never needs TornadoVM and never has its jars on the class path. The launchers
 * ({@code src/tornado/java}, which Maven does not compile) are compiled here with javac against the SDK's
 * API jar and run by {@code flexmoe.kernels.tornado.TornadoBodiesCheck} in a child JVM started with the
 * SDK's JVM options (its argfile). Work files (classes, generated OpenCL, results, log) are left in
 * {@code target/tornado-check} for inspection.
 */
class TornadoVmBodiesTest {

    private static final long SEED = 20261129L;
    private static final long TIMEOUT_MINUTES = 10;
    private static final String MAIN = "flexmoe.kernels.tornado.TornadoBodiesCheck";

    @Test
    void everyBodyRunsOnTheTornadoVmDeviceAndMatchesJava() throws Exception {
        Path sdk = usableSdkOrSkip();
        Path module = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        Path work = module.resolve("target/tornado-check");
        deleteRecursively(work);
        Files.createDirectories(work);
        Path kernelClasses = Path.of(GemmKernels.class.getProtectionDomain().getCodeSource().getLocation().toURI());

        Path launcherClasses = compileLaunchers(sdk, module.resolve("src/tornado/java"), kernelClasses,
                work.resolve("classes"));
        Path results = work.resolve("results.tsv");
        Path generated = work.resolve("generated-kernels.txt");
        Path log = work.resolve("child.log");
        // The argfile puts "." on the module path: run from an empty directory.
        Path runDir = Files.createDirectories(work.resolve("run"));

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("@" + argfile(sdk, work));
        // A body TornadoVM cannot compile must fail here, not quietly run as Java.
        command.add("-Dtornado.recover.bailout=False");
        // Generated code is appended to this file: the child's proof that each case was compiled for the device.
        command.add("-Dtornado.printKernel=True");
        command.add("-Dtornado.print.kernel.dir=" + generated);
        command.add("-cp");
        command.add(launcherClasses + File.pathSeparator + kernelClasses);
        command.add(MAIN);
        command.add(results.toString());
        command.add(Long.toString(SEED));
        Process child = new ProcessBuilder(command).directory(runDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!child.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            child.destroyForcibly().waitFor();
            fail("TornadoVM check did not finish in " + TIMEOUT_MINUTES + " min\n" + report(results, log));
        }

        String report = report(results, log);
        List<String[]> lines = Files.exists(results) ? Files.readAllLines(results).stream()
                .map(l -> l.split("\t")).toList() : List.of();
        System.out.println("TornadoVM check (kernel, max |device - java|, tolerance, generated code chars):\n"
                + (Files.exists(results) ? Files.readString(results) : "(no results)"));
        assertThat(child.exitValue()).as("child JVM exit status\n" + report).isZero();
        assertThat(lines).as(report).noneMatch(l -> l[0].equals("error"));
        int expected = lines.stream().filter(l -> l[0].equals("cases")).mapToInt(l -> Integer.parseInt(l[1]))
                .findFirst().orElse(-1);
        List<String[]> cases = lines.stream().filter(l -> l[0].equals("case")).toList();
        assertThat(cases).as("one result per case\n" + report).hasSize(expected).isNotEmpty();
        for (String[] c : cases) {
            double maxDiff = Double.parseDouble(c[2]);
            double tolerance = Double.parseDouble(c[3]);
            assertThat(maxDiff).as(c[1] + ": max |device - java|\n" + report).isLessThanOrEqualTo(tolerance);
            assertThat(Long.parseLong(c[4])).as(c[1] + ": device code generated (no Java fallback)\n" + report)
                    .isPositive();
        }
    }

    /** The SDK named by TORNADOVM_HOME, or a skipped test saying why there is none. */
    private static Path usableSdkOrSkip() throws IOException {
        String home = System.getenv("TORNADOVM_HOME");
        skipUnless(home != null && !home.isBlank(),
                "TORNADOVM_HOME is not set: skipping the TornadoVM device check "
                        + "(set it to a TornadoVM 5.2.0-jdk25 SDK to run the kernel bodies on its default device)");
        Path sdk = Path.of(home).toAbsolutePath();
        List<String> missing = new ArrayList<>();
        if (apiJars(sdk).isEmpty()) {
            missing.add("share/java/tornado/tornado-api-*.jar");
        }
        if (!Files.isRegularFile(sdk.resolve("tornado-argfile.template"))
                && !Files.isRegularFile(sdk.resolve("tornado-argfile"))) {
            missing.add("tornado-argfile[.template]");
        }
        skipUnless(missing.isEmpty(), "TORNADOVM_HOME=" + home + " is not a usable TornadoVM SDK (missing "
                + String.join(", ", missing) + "): skipping the TornadoVM device check");
        return sdk;
    }

    /** Skips with the reason, printed too: Maven's console shows skips but not their reasons. */
    private static void skipUnless(boolean condition, String reason) {
        if (!condition) {
            System.out.println("[TornadoVmBodiesTest] " + reason);
        }
        assumeTrue(condition, reason);
    }

    private static List<Path> apiJars(Path sdk) throws IOException {
        Path jars = sdk.resolve("share/java/tornado");
        if (!Files.isDirectory(jars)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(jars)) {
            return files.filter(p -> p.getFileName().toString().matches("tornado-api-.*\\.jar")).toList();
        }
    }

    /**
     * The SDK's JVM options. The template is expanded here for the SDK's current location (the SDK's own
     * expanded argfile holds the absolute paths of wherever it was generated).
     */
    private static Path argfile(Path sdk, Path work) throws IOException {
        Path template = sdk.resolve("tornado-argfile.template");
        if (!Files.isRegularFile(template)) {
            return sdk.resolve("tornado-argfile");
        }
        Path argfile = work.resolve("tornado-argfile");
        Files.writeString(argfile, Files.readString(template).replace("${TORNADOVM_HOME}", sdk.toString()));
        return argfile;
    }

    /** javac with -g: TornadoVM finds the {@code @Parallel} loop variables through the local variable table. */
    private static Path compileLaunchers(Path sdk, Path sources, Path kernelClasses, Path out) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac).as("the TornadoVM check compiles its launchers and needs a JDK, not a JRE").isNotNull();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(sources)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        assertThat(files).as("launcher sources in " + sources).isNotEmpty();
        Files.createDirectories(out);
        List<String> classPath = new ArrayList<>(apiJars(sdk).stream().map(Path::toString).toList());
        classPath.add(kernelClasses.toString());
        List<String> options = List.of("-g", "--release", Integer.toString(Runtime.version().feature()),
                "-proc:none", "-encoding", "UTF-8", "-cp", String.join(File.pathSeparator, classPath),
                "-d", out.toString());
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter javacOut = new StringWriter();
        try (StandardJavaFileManager fileManager =
                     javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean ok = javac.getTask(javacOut, fileManager, diagnostics, options, null,
                    fileManager.getJavaFileObjectsFromPaths(files)).call();
            assertThat(ok).as("javac of the TornadoVM launchers:\n" + javacOut + diagnostics.getDiagnostics()).isTrue();
        }
        return out;
    }

    private static String report(Path results, Path log) throws IOException {
        String res = Files.exists(results) ? Files.readString(results) : "(no results file)\n";
        String out = Files.exists(log) ? Files.readString(log) : "";
        String tail = out.length() > 8000 ? "..." + out.substring(out.length() - 8000) : out;
        return "results:\n" + res + "child output (" + log + "):\n" + tail;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
