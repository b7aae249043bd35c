package flexmoe.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class KernelSelfCheckTest {

    @Test
    void jvmBackendAgreesWithTheReferenceOnEveryOutput() {
        try (Backend jvm = Backends.create("jvm", 2); Backend reference = Backends.create("reference", 1)) {
            List<KernelSelfCheck.Result> results = KernelSelfCheck.run(jvm, reference, 7);
            assertThat(results).allSatisfy(r -> assertThat(r.passed())
                    .as("%s/%s: %s > %s", r.kernel(), r.output(), r.maxAbsError(), r.tolerance()).isTrue());
        }
    }

    @Test
    void coversEveryOperationOfEveryOpsInterface() {
        Set<String> checked;
        try (Backend reference = Backends.create("reference", 1)) {
            checked = KernelSelfCheck.run(reference, reference, 1).stream()
                    .map(KernelSelfCheck.Result::kernel).collect(Collectors.toSet());
        }
        Set<String> missing = new TreeSet<>();
        // Each ops interface by the name of its accessor on Backend, which prefixes its checks.
        Map<String, Class<?>> groups = Map.of("gemm", GemmOps.class, "transformer", TransformerOps.class,
                "moe", MoeOps.class, "training", TrainingOps.class);
        for (Method accessor : Backend.class.getMethods()) {
            if (accessor.getReturnType().getSimpleName().endsWith("Ops")) {
                assertThat(groups).containsEntry(accessor.getName(), accessor.getReturnType());
            }
        }
        for (Map.Entry<String, Class<?>> group : groups.entrySet()) {
            for (Method m : group.getValue().getMethods()) {
                // Abstract methods are the operations; static ones are shared checks and sizes; the default
                // perExampleNorm2 only chooses between ghostNorm2 and directNorm2.
                if (!Modifier.isStatic(m.getModifiers()) && !m.isDefault() && !checked.contains(group.getKey() + "." + m.getName())) {
                    missing.add(group.getKey() + "." + m.getName());
                }
            }
        }
        assertThat(missing).as("operations the self-check does not run").isEmpty();
    }

    @Test
    void referenceBackendIsInstalledAndNamed() {
        try (Backend reference = Backends.create("reference", 1)) {
            assertThat(reference.name()).isEqualTo("reference");
            assertThat(reference.device()).startsWith("plain kernel bodies");
        }
    }
}
