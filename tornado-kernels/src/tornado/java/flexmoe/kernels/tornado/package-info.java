/**
 * TornadoVM launchers for the kernel bodies of {@code flexmoe.kernels}, and the check that runs them on a
 * device ({@link flexmoe.kernels.tornado.TornadoBodiesCheck}). Maven does not compile this folder: it needs
 * the TornadoVM API, which the default build never has; {@code TornadoVmBodiesTest} compiles it against
 * the SDK named by {@code TORNADOVM_HOME}.
 *
 * <p>A launcher is a {@code public static void} method whose {@code @Parallel} loops run over the body's
 * leading index parameter(s) and call the body once per index (one work item each), e.g.
 * {@code for (@Parallel int t = 0; t < rows; t++) NormKernels.rmsnormRow(t, ...)}. TornadoVM rules that
 * apply to launchers (the body rules are in the kernel classes):
 * <ul>
 *   <li>compile with {@code -g}: TornadoVM finds {@code @Parallel} through the local variable table, and
 *       without it silently runs the loop as Java ({@code -Dtornado.recover.bailout=False} makes that an
 *       error);</li>
 *   <li>launcher parameters are arrays, {@code int}, {@code long}, {@code float}; no {@code boolean}: the
 *       OpenCL backend emits a {@code bool} kernel parameter, which OpenCL C rejects. Pass 0/1 and convert
 *       when calling the body;</li>
 *   <li>scalar arguments are compiled into the kernel as constants: values that change between calls go
 *       in an {@code int[]}/{@code float[]} holder;</li>
 *   <li>the OpenCL kernel is named after the launcher method: a name that is an OpenCL C built-in
 *       ({@code step}, {@code sign}, {@code clamp}, {@code mix}, {@code dot}, ...) fails
 *       {@code clCreateKernel} (CL_INVALID_KERNEL_NAME) and TornadoVM 5.2.0 then crashes the JVM in the
 *       OpenCL driver. Prefix launcher names with their group ({@code adamwStep});</li>
 *   <li>prefer bodies with one exit: an early {@code return} after a store, inside nested conditions,
 *       was compiled so that the return path's store also ran after the normal path
 *       ({@code PerExampleNormKernels.ghostRow}, see {@link flexmoe.kernels.tornado.PerExampleNormLaunchers});</li>
 *   <li>an array a kernel only stores into is deduced write-only and is not copied to the device, whatever
 *       the graph asks; the whole buffer is copied back, so elements the graph does not write (before an
 *       output offset, after the output region) return as stale device memory. An output inside a larger
 *       buffer must be written entirely by the graph or also read by it ({@link flexmoe.kernels.tornado.CopyIn}
 *       does the latter for the check);</li>
 *   <li>2-D GEMM-like work ({@code @Parallel i}, {@code @Parallel j}) spreads over all compute units;
 *       a 1-D row loop with an inner column loop does not.</li>
 * </ul>
 */
package flexmoe.kernels.tornado;
