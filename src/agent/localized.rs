//! What code says itself, in the lead's language: the built-in frameworks'
//! literal questions and the short replies that stand in for a model's
//! reply that failed a guard or a rule. `prompts/fallback.j2` is English (and
//! the operator's to edit); a Spanish lead whose reply fell back to it got
//! English, so for es/pt/fr/de/it code writes the stand-in here.

use super::plan::{Action, Plan};
use whatlang::Lang;

/// Every built-in literal question: (English, es, pt, fr, de, it).
const QUESTIONS: &[[&str; 6]] = &[
    [
        "What made you reach out today?",
        "¿Qué te hizo escribirnos hoy?",
        "O que fez você nos procurar hoje?",
        "Qu'est-ce qui vous a amené à nous écrire aujourd'hui ?",
        "Was hat Sie dazu gebracht, uns heute zu schreiben?",
        "Cosa ti ha spinto a scriverci oggi?",
    ],
    [
        "What do you need help with right now?",
        "¿Con qué necesitas ayuda ahora mismo?",
        "Com o que você precisa de ajuda agora?",
        "Sur quoi avez-vous besoin d'aide en ce moment ?",
        "Wobei brauchen Sie gerade Hilfe?",
        "In cosa ti serve aiuto in questo momento?",
    ],
    [
        "What are you hoping to achieve?",
        "¿Qué esperas lograr?",
        "Qual resultado você espera alcançar?",
        "Qu'espérez-vous accomplir ?",
        "Was möchten Sie erreichen?",
        "Cosa speri di ottenere?",
    ],
    [
        "What's getting in the way right now?",
        "¿Qué te está frenando ahora mismo?",
        "O que mais atrapalha você hoje?",
        "Qu'est-ce qui vous bloque en ce moment ?",
        "Was steht Ihnen gerade im Weg?",
        "Cosa ti sta bloccando in questo momento?",
    ],
    [
        "What problem are you trying to solve?",
        "¿Qué problema quieres resolver?",
        "Qual problema você quer resolver hoje?",
        "Quel problème cherchez-vous à résoudre ?",
        "Welches Problem möchten Sie lösen?",
        "Quale problema vuoi risolvere?",
    ],
    [
        "What does your business do, and roughly how big is it?",
        "¿A qué se dedica tu negocio y qué tamaño tiene más o menos?",
        "O que o seu negócio faz e qual é o tamanho dele, mais ou menos?",
        "Que fait votre entreprise, et quelle est sa taille environ ?",
        "Was macht Ihr Unternehmen, und wie groß ist es ungefähr?",
        "Di cosa si occupa la tua attività, e quanto è grande più o meno?",
    ],
    [
        "If this worked perfectly, what would be different for you in 90 days?",
        "Si esto funcionara perfecto, ¿qué sería distinto para ti en 90 días?",
        "Se isso funcionasse perfeitamente, o que seria diferente para você em 90 dias?",
        "Si cela marchait parfaitement, qu'est-ce qui changerait pour vous dans 90 jours ?",
        "Wenn das perfekt funktioniert, was wäre in 90 Tagen für Sie anders?",
        "Se funzionasse alla perfezione, cosa sarebbe diverso per te tra 90 giorni?",
    ],
    [
        "When would you ideally want this in place?",
        "¿Cuándo te gustaría tener esto funcionando?",
        "Quando você gostaria de ter isso funcionando?",
        "Quand aimeriez-vous que ce soit en place ?",
        "Wann möchten Sie das idealerweise umgesetzt haben?",
        "Quando vorresti che fosse operativo, idealmente?",
    ],
    [
        "What have you set aside to invest in solving this?",
        "¿Cuánto has reservado para invertir en resolver esto?",
        "Quanto você reservou para investir em resolver isso?",
        "Quel budget avez-vous prévu pour régler cela ?",
        "Wie viel haben Sie eingeplant, um das zu lösen?",
        "Quanto hai messo da parte per risolvere questo?",
    ],
    [
        "What have you set aside for this?",
        "¿Cuánto has reservado para esto?",
        "Quanto você reservou para isso?",
        "Quel budget avez-vous prévu pour cela ?",
        "Wie viel haben Sie dafür eingeplant?",
        "Quanto hai messo da parte per questo?",
    ],
    [
        "What can you invest in this?",
        "¿Cuánto puedes invertir en esto?",
        "Quanto você pode investir nisso?",
        "Combien pouvez-vous investir là-dedans ?",
        "Wie viel können Sie dafür investieren?",
        "Quanto puoi investire in questo?",
    ],
    [
        "How soon do you need this?",
        "¿Para cuándo lo necesitas?",
        "Para quando você precisa disso?",
        "Pour quand en avez-vous besoin ?",
        "Bis wann brauchen Sie das?",
        "Per quando ti serve?",
    ],
    [
        "How are you planning to get there today?",
        "¿Cómo piensas lograrlo hoy por hoy?",
        "Como você pretende chegar lá hoje?",
        "Comment comptez-vous y arriver aujourd'hui ?",
        "Wie wollen Sie das heute erreichen?",
        "Come pensi di arrivarci oggi?",
    ],
    [
        "How high is this on your list, and when would you want to start?",
        "¿Qué tan prioritario es esto para ti y cuándo te gustaría empezar?",
        "Qual é a prioridade disso para você e quando gostaria de começar?",
        "Est-ce une priorité pour vous, et quand voudriez-vous commencer ?",
        "Wie wichtig ist das für Sie, und wann möchten Sie starten?",
        "Quanto è prioritario per te, e quando vorresti iniziare?",
    ],
    [
        "How would you measure success here?",
        "¿Cómo medirías el éxito en esto?",
        "Como você mediria o sucesso aqui?",
        "Comment mesureriez-vous le succès ici ?",
        "Woran würden Sie den Erfolg messen?",
        "Come misureresti il successo in questo caso?",
    ],
    [
        "What caught your interest?",
        "¿Qué te llamó la atención?",
        "O que chamou a sua atenção?",
        "Qu'est-ce qui a retenu votre attention ?",
        "Was hat Ihr Interesse geweckt?",
        "Cosa ha attirato il tuo interesse?",
    ],
    [
        "What changes for you if this gets solved, or if it doesn't?",
        "¿Qué cambia para ti si esto se resuelve, o si no?",
        "O que muda para você se isso for resolvido, ou se não for?",
        "Qu'est-ce qui change pour vous si c'est résolu, ou si ça ne l'est pas ?",
        "Was ändert sich für Sie, wenn das gelöst wird, oder wenn nicht?",
        "Cosa cambia per te se questo si risolve, o se no?",
    ],
    [
        "What does your decision process look like, and on what timing?",
        "¿Cómo es tu proceso de decisión y en qué plazos?",
        "Como é o seu processo de decisão e em que prazo?",
        "Comment se passe votre prise de décision, et dans quels délais ?",
        "Wie läuft Ihre Entscheidung ab, und in welchem Zeitrahmen?",
        "Come funziona il tuo processo decisionale, e con quali tempi?",
    ],
    [
        "What matters most to you when comparing options?",
        "¿Qué es lo que más te importa al comparar opciones?",
        "O que mais importa para você ao comparar opções?",
        "Qu'est-ce qui compte le plus pour vous quand vous comparez les options ?",
        "Was ist Ihnen beim Vergleichen von Angeboten am wichtigsten?",
        "Cosa conta di più per te quando confronti le opzioni?",
    ],
    [
        "Who else is involved in deciding on something like this?",
        "¿Quién más participa en una decisión como esta?",
        "Quem mais participa de uma decisão como essa?",
        "Qui d'autre participe à une décision comme celle-ci ?",
        "Wer entscheidet bei so etwas noch mit?",
        "Chi altro è coinvolto in una decisione come questa?",
    ],
    [
        "Who on your side is most keen to get this fixed?",
        "¿Quién de tu lado tiene más interés en resolver esto?",
        "Quem do seu lado tem mais interesse em resolver isso?",
        "Qui, de votre côté, tient le plus à régler cela ?",
        "Wer bei Ihnen möchte das am dringendsten lösen?",
        "Chi dalla tua parte tiene di più a risolvere questo?",
    ],
    [
        "Who signs off on a purchase like this?",
        "¿Quién aprueba una compra como esta?",
        "Quem aprova uma compra como essa?",
        "Qui valide un achat comme celui-ci ?",
        "Wer gibt einen Kauf wie diesen frei?",
        "Chi approva un acquisto come questo?",
    ],
];

/// The column of `lang` in the tables above (0: English, or any language
/// they are not written in).
fn column(lang: Lang) -> usize {
    match lang {
        Lang::Spa => 1,
        Lang::Por => 2,
        Lang::Fra => 3,
        Lang::Deu => 4,
        Lang::Ita => 5,
        _ => 0,
    }
}

/// The ISO 639-1 code of the language code writes in (`en` for any other).
pub(crate) fn code(lang: Lang) -> &'static str {
    ["en", "es", "pt", "fr", "de", "it"][column(lang)]
}

/// `literal` (a slot's question) in `lang` when it is a built-in one;
/// anything else (a custom slot's `ask`) as written.
pub(crate) fn question(literal: &str, lang: Lang) -> String {
    QUESTIONS
        .iter()
        .find(|row| row[0] == literal)
        .map(|row| row[column(lang)].to_string())
        .unwrap_or_else(|| literal.to_string())
}

/// The stand-in reply for `plan` in `lang`, or `None` for English (and any
/// language not written here): `fallback.j2` is used then.
pub(crate) fn fallback(plan: &Plan, lang: Lang, offer: &str) -> Option<String> {
    let col = column(lang);
    if col == 0 {
        return None;
    }
    let pick = |texts: [&str; 5]| texts[col - 1].to_string();
    let link = plan.link.as_deref().unwrap_or_default();
    Some(match plan.action {
        Action::Decline => pick([
            "¡Gracias por escribirnos! Parece que {offer} no es lo adecuado para ti ahora mismo, pero te deseo mucho éxito.",
            "Obrigada pela mensagem! Parece que {offer} não é o ideal para você agora, mas desejo muito sucesso.",
            "Merci pour votre message ! {offer} ne semble pas adapté pour vous en ce moment, mais je vous souhaite beaucoup de réussite.",
            "Danke für Ihre Nachricht! {offer} passt gerade wohl nicht zu Ihnen, aber ich wünsche Ihnen viel Erfolg.",
            "Grazie per averci scritto! Sembra che {offer} non sia la soluzione giusta per te in questo momento, ma ti auguro il meglio.",
        ])
        .replace("{offer}", offer),
        Action::Close => format!(
            "{} {link}",
            pick([
                "¡Genial, parece que encajamos! Este es el siguiente paso:",
                "Ótimo, parece que faz sentido para você! O próximo passo é este:",
                "Parfait, cela semble vous correspondre ! Voici la prochaine étape :",
                "Super, das passt! Hier ist der nächste Schritt:",
                "Ottimo, sembra la soluzione giusta per te! Ecco il prossimo passo:",
            ])
        ),
        Action::Ask | Action::Nurture => {
            let thanks = pick([
                "¡Gracias por contármelo!",
                "Obrigada por contar!",
                "Merci pour ces précisions !",
                "Danke für die Info!",
                "Grazie per avermelo detto!",
            ]);
            match &plan.question_text {
                Some(q) => format!("{thanks} {}", question(q, lang)),
                None => pick([
                    "Gracias por contármelo, así puedo orientarte mejor.",
                    "Obrigada por contar, isso me ajuda a orientar você melhor.",
                    "Merci pour ces précisions, cela m'aide à mieux vous orienter.",
                    "Danke für die Info, das hilft mir, Sie besser zu beraten.",
                    "Grazie per avermelo detto, mi aiuta a indirizzarti meglio.",
                ]),
            }
        }
    }
    .trim()
    .to_string())
}

/// Short acknowledgements, for a reply with nothing else left to say that
/// must not repeat the last one word for word.
pub(crate) fn acknowledgements(lang: Lang) -> [&'static str; 3] {
    const ALL: [[&str; 3]; 6] = [
        [
            "Got it, thanks for telling me.",
            "That's helpful to know, thank you.",
            "Thanks, noted.",
        ],
        [
            "Entendido, gracias por contármelo.",
            "Eso me ayuda mucho, gracias.",
            "Gracias, lo tengo en cuenta.",
        ],
        [
            "Entendi, obrigada por me contar isso.",
            "Isso ajuda muito, obrigada.",
            "Obrigada, anotado.",
        ],
        [
            "Compris, merci de me l'avoir dit.",
            "C'est utile à savoir, merci.",
            "Merci, c'est noté.",
        ],
        [
            "Verstanden, danke für die Info.",
            "Das ist hilfreich, danke.",
            "Danke, notiert.",
        ],
        [
            "Capito, grazie per avermelo detto.",
            "È utile saperlo, grazie.",
            "Grazie, ne prendo nota.",
        ],
    ];
    ALL[column(lang)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::language::detect;

    const WRITTEN: [Lang; 5] = [Lang::Spa, Lang::Por, Lang::Fra, Lang::Deu, Lang::Ita];

    #[test]
    fn every_built_in_question_is_translated_and_reads_as_its_language() {
        for id in [
            "pif",
            "bant",
            "gpct",
            "champ",
            "meddic",
            "faint",
            "gpctba-ci",
        ] {
            let fw = crate::config::Framework::resolve(id, &[]).unwrap();
            for slot in &fw.slots {
                let literal = crate::config::Framework::ask_for(slot);
                for lang in WRITTEN {
                    let q = question(&literal, lang);
                    assert_ne!(q, literal, "{id}.{} has no {lang:?}", slot.id);
                    assert_eq!(detect(&q), Some(lang), "{q:?} is not read as {lang:?}");
                }
            }
        }
        assert_eq!(
            question("How big is the team?", Lang::Spa),
            "How big is the team?"
        );
    }

    #[test]
    fn stand_ins_are_written_in_the_lead_s_language() {
        let mut plan = crate::agent::context::sample_plans(
            &crate::config::Framework::resolve("pif", &[]).unwrap(),
        )
        .remove(0);
        assert_eq!(fallback(&plan, Lang::Eng, "GrowthPilot"), None);
        for action in [Action::Ask, Action::Nurture, Action::Close, Action::Decline] {
            plan.action = action;
            if action != Action::Ask {
                plan.question_text = None;
            }
            for lang in WRITTEN {
                let text = fallback(&plan, lang, "GrowthPilot").unwrap();
                assert_eq!(detect(&text), Some(lang), "{action:?}: {text:?}");
            }
        }
        for lang in [Lang::Eng].into_iter().chain(WRITTEN) {
            for text in acknowledgements(lang) {
                assert_eq!(detect(text), Some(lang), "{text:?}");
            }
        }
    }
}
