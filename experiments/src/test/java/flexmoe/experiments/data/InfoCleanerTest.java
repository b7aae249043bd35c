package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InfoCleanerTest {

    @Test
    void dropsNodeHeaderMenusUnderlinesAndNoteSyntax() {
        String node = """

                File: calc.info,  Node: Integrals,  Next: Limits,  Prev: Sums,  Up: Top

                3 Integrals
                ***********

                * Menu:

                * Definite::           Integrals with limits.
                * Indefinite::

                'integrate (expr, x)' integrates; *Note Limits:: for the rest, and
                see *note Sums: Summation. too.
                     (%i1) integrate (x^2, x);
                """;
        assertThat(Cleaner.INFO.clean(node)).isEqualTo("""
                3 Integrals


                'integrate (expr, x)' integrates; Limits for the rest, and
                see Sums too.
                     (%i1) integrate (x^2, x);""");
    }

    @Test
    void partsThatAreNotNodesAreEmpty() {
        assertThat(Cleaner.INFO.clean("This is calc.info, produced by makeinfo.\n\nINFO-DIR-SECTION Math\n")).isEmpty();
        assertThat(Cleaner.INFO.clean("\nTag Table:\nNode: Top\u007f100\n")).isEmpty();
    }
}
