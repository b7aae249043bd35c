package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BrownCleanerTest {

    @Test
    void stripsTagsJoinsPunctuationAndMapsQuoteMarks() {
        String tagged = "\n\n\tThe/at committee/nn said/vbd ``/`` it/pps was/bedz fine/jj ''/'' ,/, and/cc"
                + " left/vbd ./.\n\n\n\tIt/pps cost/vbd $/$ 5/cd (/( 1/2/cd each/dt )/) ;/. done/vbn !/.\n";
        assertThat(Cleaner.BROWN.clean(tagged))
                .isEqualTo("The committee said \"it was fine\", and left. It cost $5 (1/2 each); done!");
    }

    @Test
    void keepsContractionsAndPossessivesWhole() {
        assertThat(Cleaner.BROWN.clean("\tThe/at city's/nn$ mayor/nn didn't/dod* go/vb ./."))
                .isEqualTo("The city's mayor didn't go.");
    }
}
