package flexmoe.moe.model;

import flexmoe.kernels.Backend;
import flexmoe.kernels.GemmOps;
import flexmoe.kernels.MoeOps;
import flexmoe.kernels.TrainingOps;
import flexmoe.kernels.TransformerOps;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.TreeMap;

/** A backend that counts the operations the model calls (by method name), delegating to a real one. */
final class CountingBackend implements Backend {

    private final Backend inner;
    private final Map<String, Integer> counts = new TreeMap<>();
    private final GemmOps gemm;
    private final TrainingOps training;
    private final MoeOps moe;
    private final TransformerOps transformer;

    CountingBackend(Backend inner) {
        this.inner = inner;
        this.gemm = counting(GemmOps.class, inner.gemm());
        this.training = counting(TrainingOps.class, inner.training());
        this.moe = counting(MoeOps.class, inner.moe());
        this.transformer = counting(TransformerOps.class, inner.transformer());
    }

    private <T> T counting(Class<T> type, T target) {
        InvocationHandler handler = (proxy, method, args) -> {
            counts.merge(method.getName(), 1, Integer::sum);
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }

    int count(String op) {
        return counts.getOrDefault(op, 0);
    }

    void reset() {
        counts.clear();
    }

    Map<String, Integer> counts() {
        return new TreeMap<>(counts);
    }

    @Override
    public String name() {
        return "counting-" + inner.name();
    }

    @Override
    public String device() {
        return inner.device();
    }

    @Override
    public int threads() {
        return inner.threads();
    }

    @Override
    public GemmOps gemm() {
        return gemm;
    }

    @Override
    public TrainingOps training() {
        return training;
    }

    @Override
    public MoeOps moe() {
        return moe;
    }

    @Override
    public TransformerOps transformer() {
        return transformer;
    }

    @Override
    public void close() {
        inner.close();
    }
}
