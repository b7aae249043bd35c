package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RestCleanerTest {

    @Test
    void rolesLinksTargetsAndBookkeepingDirectivesGo() {
        String rst = """
                :tocdepth: 2

                .. _tut-loops:

                *****
                Loops
                *****

                .. index::
                   single: for
                   statement: while

                The :keyword:`!for` statement calls :func:`~os.path.join` (see :ref:`the guide <tut-guide>`
                and the `Beginner's Guide <https://example.org/guide>`_).

                .. note::

                   Loops can nest::

                      >>> for i in range(2): print(i)
                """;
        assertThat(Cleaner.REST.clean(rst)).isEqualTo("""
                Loops

                The for statement calls os.path.join (see the guide
                and the Beginner's Guide).

                   Loops can nest::

                      >>> for i in range(2): print(i)""");
    }
}
