package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TexCleanerTest {

    @Test
    void unwrapsTextCommandsDropsReferencesAndCommentsKeepsMath() {
        String tex = """
                % a comment line
                \\section{Programming in GP}\\label{se:gp}\\sidx{programming}
                The function \\kbd{foo}$(x,\\&e)$ returns \\emph{two} values~\\cite{ref}; 50\\% of users\\footnote{Roughly.}.
                \\noindent Display: $$\\sum_{n\\ge1} n^{-s}$$ and \\[ \\frac{a}{b} \\] end. % trailing comment
                """;
        assertThat(Cleaner.TEX.clean(tex)).isEqualTo("""
                Programming in GP
                The function foo$(x,\\&e)$ returns two values; 50% of usersRoughly..
                Display: $$\\sum_{n\\ge1} n^{-s}$$ and \\[ \\frac{a}{b} \\] end.""");
    }

    @Test
    void dropsSweaveChunksPreambleAndCodeEnvironments() {
        String rnw = """
                \\documentclass{article}
                \\usepackage{Sweave}
                %\\VignetteIndexEntry{Intro}
                \\begin{document}
                \\title{Fitting Models}
                We fit a model with \\code{lm}.
                <<fit, echo=TRUE>>=
                fm <- lm(y ~ x)
                summary(fm)
                @
                The fit is good.
                \\begin{Schunk}
                \\begin{Sinput}
                > plot(fm)
                \\end{Sinput}
                \\end{Schunk}
                \\begin{equation}
                y = X\\beta + \\varepsilon
                \\end{equation}
                \\end{document}
                trailing junk
                """;
        assertThat(Cleaner.TEX.clean(rnw)).isEqualTo("""
                Fitting Models
                We fit a model with lm.
                The fit is good.

                \\begin{equation}
                y = X\\beta + \\varepsilon
                \\end{equation}""");
    }

    @Test
    void definitionsVanishAndNameMacrosStay() {
        String tex = "\\newcommand{\\pkg}[1]{{\\normalfont\\fontseries{b}\\selectfont #1}}\n"
                + "\\def\\R{R}\nUse \\R{} and \\GP with ``quotes'' and \\verb|a{b}|.\n";
        assertThat(Cleaner.TEX.clean(tex)).isEqualTo("Use R and GP with \"quotes\" and a{b}.");
    }

    @Test
    void punctuationLeftAloneByADroppedCitationJoinsItsSentence() {
        assertThat(Cleaner.TEX.clean("the trend test \\citep{ca} , regardless\nof equilibrium\n\\citep{hw}.\nNext."))
                .isEqualTo("the trend test, regardless\nof equilibrium.\nNext.");
    }

    @Test
    void anUnclosedDollarIsKeptAsASymbol() {
        assertThat(Cleaner.TEX.clean("costs 5$ today")).isEqualTo("costs 5$ today");
    }
}
