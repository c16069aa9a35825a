/**
 * Person names (docs/ml.md, "Person names"): only where something in the text says a name follows. A capitalised
 * word alone is not one (a sentence start, a heading, Paris, Ford, Claude): precise before broad, since a false
 * positive redacts ordinary log text. The signals:
 *
 * - a title or honorific (Dr. Maria Gonzalez, Mme Dupont, Herr Müller, Sra. Pérez, Sig.ra Esposito);
 * - an introduction (my name is, je m'appelle, ich heiße, me llamo, mi chiamo, meu nome é; weaker: I am, this is);
 * - a key or form label that names a person (`"name": "..."`, `full_name=`, `first_name`, `Patient:`, `Reporter:`);
 * - a role noun before it in prose (the patient, my colleague, il cliente), "signed by", "approved by";
 * - a greeting before it (Dear Kwame, Hi Sunita,) or a sign-off line above it (Regards,\nIngrid Halvorsen).
 *
 * Each rule reports the name only (its `group`), never the title or key. All scans are linear: a keyword, then a
 * bounded run of words.
 */

/** One capitalised name word: Maria, O'Connor, D'Angelo, Al-Sayed, Jean-Baptiste, Seo-yeon, McDonald, Müller. */
const WORD = String.raw`\p{Lu}(?:['’]\p{Lu})?\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:-\p{L}\p{Ll}*)*(?![\p{L}\d_])`;
/** Small words inside a name: van der Berg, De Luca's "de", bin, ibn, y (Ortega y Gasset). */
const PARTICLE = String.raw`(?:van|von|der|den|de|del|della|di|da|das|dos|du|le|la|bin|bint|ibn|al|el|y|ter|zu)`;
/** An initial before a name word: J. Smith, John Q Public, John Q. Public. */
const INITIAL = String.raw`\p{Lu}\.?[ \t]+(?=\p{Lu}\p{Ll})`;
/** One to four name words, with particles and initials between them, on one line. */
const NAME = String.raw`(?:${INITIAL})?${WORD}(?:[ \t]+(?:${PARTICLE}[ \t]+){0,2}(?:${INITIAL})?${WORD}){0,3}`;
/** Two to four name words (where the signal is weaker: a generic `name` key, "I am", a role noun). */
const NAME2 = String.raw`(?:${INITIAL})?${WORD}(?:[ \t]+(?:${PARTICLE}[ \t]+){0,2}(?:${INITIAL})?${WORD}){1,3}`;
/** A name written in lower case, after an explicit introduction only (my name is siobhan o'connor). */
const LOWER_NAME = String.raw`\p{Ll}(?:['’]\p{Ll})?\p{Ll}+(?:-\p{Ll}+)*(?:[ \t]+\p{Ll}(?:['’]\p{Ll})?\p{Ll}+(?:-\p{Ll}+)*)?(?![\p{L}\d_])`;

/** Each alternative also with its first letter in the other case (Dear/dear), the rest as written. */
const eitherCase = (words: string): string =>
  words
    .split('|')
    .map((w) => {
      const first = w[0]!;
      const other = first === first.toUpperCase() ? first.toLowerCase() : first.toUpperCase();
      return other === first ? w : `[${first}${other}]${w.slice(1)}`;
    })
    .join('|');

/** Titles and honorifics, as written before a name (case-sensitive: "dr." in prose is not one). */
const TITLE =
  String.raw`(?:Dr|Dra|Mr|Mrs|Ms|Mx|Prof|Mme|Mlle|Sr|Sra|Srta|Sig|Sig\.ra|Sig\.na|Dott|Dott\.ssa|Avv|Ing)\.?|` +
  String.raw`M\.|Miss|Herr|Frau|Monsieur|Madame|Mademoiselle|Señor|Señora|Señorita|Senhor|Senhora|Don|Doña|Dona|` +
  String.raw`Signor|Signora|Signorina|Professor|Professeur|Professora|Doktor|Docteur|Doctor|Doctora|` +
  String.raw`[Dd]ottor|[Dd]ottore|[Dd]ottoressa`;

/** Words that are never part of a person's name here: pronouns, articles, org, place and role words, months, days. */
const NOT_NAME = new Set(
  [
    'the a an this that these those our your my his her their its we you they it i me us them',
    'not no yes all any every everyone everybody someone nobody none other others world there folks friends',
    'still just very really so also now here back only always never again already',
    'sie ihnen ihr euch dich du dir usted ustedes vous toi lei voi loro você vocês',
    'team teams support customer customers client clients service services success sales billing admin',
    'administrator staff department office desk help helpdesk operations ops platform finance legal marketing',
    'engineering engineer developer manager director senior junior lead head chief product project account',
    'inc ltd llc gmbh corp corporation company group holdings bank clinic hospital university college school',
    'tech center centre station line street road avenue river lake mount mont sea ocean city county state',
    'bridge airport hotel santa san saint sainte são st fort port new north south east west',
    'plan premium pro free basic enterprise edition tier standard business',
    // placeholders (a test fixture's "Test User", "Frau Example"): documentation, not a person
    'test tester user users person example sample demo dummy placeholder anonymous unknown guest nobody',
    // organisations and products under a generic key or on a signature line (Studio Legale Fontana, Incident
    // Management)
    'studio legale cabinet kanzlei despacho escritório società srl spa sarl ag bv associati associates partners',
    'consulting solutions systems technologies labs management monitoring automation incident workflow log logs',
    'synthetic api gateway cluster dashboard monitor pipeline worker app application system cloud data analytics',
    'security network storage search engine server agent bot bots actions exporter runner root global proxy',
    'code owners check checks alert alerts oncall',
    // what monitors, SLOs, dashboards and services are named after under a bare `name` key ("Error Budget Burn",
    // "Checkout Latency"): measures and the parts of a shop, none of them a given name or a common surname
    'error errors budget burn latency availability uptime throughput saturation timeout timeouts failure failures',
    'request requests response traffic queue memory disk cpu spend cost quality drift anomaly forecast usage tokens',
    'rate duration total daily hourly weekly critical warning metric metrics traces report reports overview summary',
    'status health checkout payment payments order orders cart login signup inventory shipping database cache events',
    'release deploy deployment rollout canary backup',
    'operator controller daemon collector scheduler assistant copilot model models',
    // voice assistants and chatbots greeted by name ("Hey Siri,", "OK Google,"): a product, not a person
    'siri alexa cortana bixby google chatgpt gemini',
    // model families (Gemini Flash, Claude Opus): a model, not a person
    'flash opus sonnet haiku ultra mini nano turbo lite',
    'sir madam madame dear hello hi hey thanks thank regards best cheers',
    // a greeting to a chat, a relation, a group ("Hi Chat,", "Hi Mom,", "Regards,\nDevOps Guild")
    'chat mom mum dad mama papa guild crew squad tribe',
    // a title is not the name after it (Herr Dr., Dr. Mr. in a list of titles)
    'dr dra mr mrs ms mx prof mme mlle sr sra srta sig dott avv ing herr frau',
    'monday tuesday wednesday thursday friday saturday sunday january february march april may june july',
    'august september october november december',
  ]
    .join(' ')
    .split(' '),
);

/** Whether every word of a found name could be a name's (none is a pronoun, an org or place word, a month). */
const plausible = (name: string): boolean =>
  name.split(/[ \t]+/).every((w) => !NOT_NAME.has(w.toLowerCase().replace(/[’']s$/, '')));

/** After a title, these make a brand, a character or a book, not a person: Dr. Martens, Mr. Robot, Don Quijote. */
const AFTER_TITLE_NOT_NAME = new Set(
  // Microsoft's products written "Ms Excel", "MS Word" (a title in form only).
  'martens pepper oetker robot bean clean potato doubtfire quijote quixote who freeze excel word powerpoint outlook access teams paint edge'.split(
    ' ',
  ),
);

export interface PersonNameRule {
  pattern: RegExp;
  needs?: RegExp;
  group: number;
  validate: (m: RegExpExecArray) => boolean;
}

const nameOk = (m: RegExpExecArray): boolean => plausible(m[1]!);

/** What follows a name in an introduction: the end, a stop or a comma, or from, and, but, who, here, calling, I... (six languages). */
const AFTER_INTRODUCTION = new RegExp(
  String.raw`^(?:[ \t]*(?:$|[\r\n.,;:!?)(—–"'”’\x60]|[ \t]-[ \t])|[ \t]+(?:from|and|but|who|here|speaking|calling|writing|again|with|at|of|` +
    String.raw`on|in|your|our|the|my|a|an|I|i|et|de|du|chez|ici|y|aquí|e|di|da|qui|und|von|aus|hier)(?![\p{L}\d]))`,
  'u',
);

/**
 * Whether "I am" / "this is" + capitalised words is someone introducing themselves rather than a title, a headline
 * or a quotation that happens to start so: not inside quotes ("Translate 'I am Iron Man'"), and followed by what
 * follows a name in an introduction ("this is Arjun Mehta from finance", "I'm Maria Gomez."), not by more of a
 * sentence whose subject or object it is ("This is Spinal Tap is a 1984 film", "I am Legend was released", "This is
 * Great News for the team", "Here Is What We Learned This Week"). Until 2026-12-07 any two capitalised words after
 * it were a name. A bare "I am Iron Man." still reads as an introduction: only a lexicon of ordinary words could
 * tell, and none is used (docs/ml.md, "Person names").
 */
function introduced(m: RegExpExecArray): boolean {
  // A quotation opens after a word ("Translate 'I am ..."); a string that opens after a key, a bracket or a comma is
  // the text itself, as a JSON log line or request body holds it (`{"prompt": "I am Nadia Haddad"}`).
  if (/[\p{L}\d][ \t]*["'“‘«„]$/u.test(m.input.slice(Math.max(0, m.index - 8), m.index))) return false;
  return AFTER_INTRODUCTION.test(m.input.slice(m.index + m[0].length, m.index + m[0].length + 16));
}

/** Keys and labels that name a person's name outright: one word after them is enough (first_name: Svetlana). */
const NAME_KEY =
  String.raw`(?:[Ff]ull|[Ff]irst|[Ll]ast|[Gg]iven|[Ff]amily|[Mm]iddle|[Ss]ur|[Cc]ustomer|[Pp]atient|[Cc]ontact|` +
  String.raw`[Cc]lient|[Dd]isplay|[Ll]egal|[Mm]aiden|[Uu]ser|[Aa]ccount[_ -]?holder|[Cc]ardholder|[Hh]older)[_ -]?[Nn]ame|(?:full|first|last|given|family|middle|sur|` +
  String.raw`customer|patient|contact|client|display|user)Name|surname|firstname|lastname|fullname|forename|` +
  String.raw`[Nn]ombre(?:[_ ]completo)?|[Aa]pellidos?|[Pp]rénom|[Cc]ognome|[Ss]obrenome|[Vv]orname|[Nn]achname|` +
  String.raw`[Nn]ominativo|[Nn]ome(?:[_ ]completo)?|[Nn]om(?:[_ ]complet|[ _]du[ _]client|[ _]de[ _]famille)?|[Nn]ame`;
/** Labels that often hold a person, but not always (Owner: Platform Team): two name words and nothing after. */
const PERSON_LABEL =
  String.raw`[Cc]ontact(?:[ _]person)?|[Aa]ccount[ _]owner|[Oo]wner|[Rr]eporter|[Aa]ssignee|[Aa]ssigned[ _]to|` +
  String.raw`[Rr]equester|[Rr]equested[ _]by|[Aa]uthor|[Aa]ctor|[Rr]eviewer|[Aa]pprover|[Ff]rom|` +
  String.raw`[Pp]atient|[Pp]atiente|[Pp]aciente|[Pp]aziente|[Cc]ustomer|[Cc]liente|[Kk]unde|[Kk]undin|` +
  String.raw`[Ii]nsured(?:[ _]party)?|[Pp]olicy[ _]?holder|[Aa]pplicant|[Gg]uarantor|` +
  String.raw`[Aa]ttn|[Aa]ttention|[Ss]igned[ _]by|[Bb]eneficiary|[Ee]mployee|[Cc]ontato|[Cc]ontatto|[Tt]itular`;
/** What may end a key's value: its closing quote, the end of the line, a separator, the next key, a bracket. */
/*
 * Blanks are read once: no two runs of `[ \t]` meet around an optional item (`[ \t]*:?[ \t]+`, `[ \t]+(?:der)?[ \t]*`,
 * `[ \t]*[,!.]?[ \t]*`), which cut a long run of blanks in two at every place and tried each cut: quadratic, 38 KB of
 * spaces after "Dr. von", "first_name: van", "my name is" or a sign-off took 2 to 6 s. The optional item carries its
 * own blanks instead (`(?:[ \t]*:)?[ \t]+`): the same texts match.
 */
const VALUE_END = String.raw`(?=["'\x60]|[ \t]*(?:$|[\n\r,;|}\])]|[ \t][—–-][ \t]|[ \t]+\w+[=:]|[ \t]+\())`;

export const PERSON_NAME_RULES: readonly PersonNameRule[] = [
  {
    // A title or honorific, perhaps two (Herr Dr.), then the name: "Dr. Amara Okonkwo", "Mme Dupuis-Laurent",
    // "Herr von Trapp". The name may start with a particle (von, van, de) but not with an article (Herr der Ringe).
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d_.])(?:${TITLE})(?:[ \t]+(?:${TITLE}))?[ \t]+((?:(?:von|van|de|di|da|du|del|della|dos|bin|ibn|al|el)[ \t]+(?:(?:der|den|la|le)[ \t]*)?)?${NAME})`,
      'gu',
    ),
    needs:
      /\b(?:Dr|Dra|Mr|Mrs|Ms|Mx|Prof|Mme|Mlle|Sr|Sra|Srta|Sig|Dott|Avv|Ing|M|Miss|Herr|Frau|Mon|Mad|Señ|Senh|Don|Doña|Dona|Signor|Doct|Dokt|dott|Dott|Prof)/,
    group: 1,
    validate: (m) => nameOk(m) && !AFTER_TITLE_NOT_NAME.has(m[1]!.split(/[ \t]/)[0]!.toLowerCase()),
  },
  {
    // An explicit introduction: the name may be one word, or typed in lower case.
    pattern: new RegExp(
      String.raw`(?<![\p{L}])(?:${eitherCase("my name is|my name's|je m'appelle|je m’appelle|mon nom est|ich heiße|ich heisse|mein Name ist|me llamo|mi nombre es|mi chiamo|il mio nome è|meu nome é|o meu nome é|me chamo")})(?:[ \t]*:)?[ \t]+(${NAME}|${LOWER_NAME})`,
      'gu',
    ),
    needs: /name|appelle|nom est|hei(?:ß|ss)e|llamo|nombre|chiamo|nome|chamo/i,
    group: 1,
    validate: nameOk,
  },
  {
    // A weaker introduction: two capitalised words at least (I am Nadia Haddad; not "I am Happy"). Not German "ich
    // bin": German capitalises its nouns ("Ich bin Software Entwickler"). Only where it reads as one (`introduced`).
    pattern: new RegExp(
      String.raw`(?<![\p{L}])(?:I am|I'm|I’m|[Tt]his is|[Jj]e suis|[Ss]oy|[Ss]ono|[Ss]ou|[Hh]ere is)[ \t]+(${NAME2})`,
      'gu',
    ),
    // Any case: a sentence starts with "Soy", "Sono", "Sou" (until 2026-12-07 this pre-check skipped them).
    needs: /\b(?:am|I'm|I’m|is|suis|soy|sono|sou)\b/i,
    group: 1,
    validate: (m) => nameOk(m) && introduced(m),
  },
  {
    // A key or label that names a name: `"first_name": "Svetlana"`, `full_name='Mehmet Yılmaz'`, "Nombre: Valentina
    // Ortega Salas", `lastName: 'van der Berg'`. A generic `name` key holds services and products too
    // (`name: payments-worker`, `"name": "Premium Plan"`), so its value must be the name and nothing else after it.
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d])(?<key>${NAME_KEY})["'\x60]?[ \t]*[:=—–][ \t]*["'\x60]?((?:(?:van|von|de|di|da|du|del|della|dos)[ \t]+(?:(?:der|den|la|le)[ \t]*)?)?${NAME})${VALUE_END}`,
      'gmu',
    ),
    needs: /name|nombre|apellido|nom|cognome|vorname|nachname/i,
    group: 2,
    validate: (m) => {
      const generic = /^(?:[Nn]ame|[Nn]ombre|[Nn]ome|[Nn]om)$/.test(m.groups!.key!);
      return plausible(m[2]!) && (!generic || /[ \t]/.test(m[2]!.trim()));
    },
  },
  {
    // A label that often holds a person (Reporter: Anneliese Vogt, From: Beatriz Lacerda, Patient: Wei Zhang).
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d])(?:${PERSON_LABEL})["'\x60]?[ \t]*[:=—–][ \t]*["'\x60]?(${NAME2})${VALUE_END}`,
      'gmu',
    ),
    needs:
      /\b(?:contact|owner|reporter|assign|request|author|actor|reviewer|approver|from|patient|paciente|paziente|customer|cliente|kund|insured|policy.?holder|applicant|guarantor|attn|attention|signed.by|beneficiary|employee|contat|titular)[\w "'\x60]{0,8}[:=—–]/i,
    group: 1,
    validate: nameOk,
  },
  {
    // A role noun in prose: "the patient Abdullah Rahimi", "my colleague Sebastián Rojas", "il cliente Marco
    // Bellucci", "signed by Khalid bin Saeed Al-Mansouri".
    pattern: new RegExp(
      String.raw`(?<![\p{L}])(?:${eitherCase(
        'patient|patiente|paciente|paziente|customer|cliente|kunde|kundin|colleague|coworker|co-worker|' +
          'manager|boss|wife|husband|partner|son|daughter|mother|father|mom|mum|dad|friend|brother|sister|aunt|uncle|' +
          'kollege|kollegin|collègue|colega|collega|amigo|amiga|amico|amica|jefe|jefa|chefe|signed by|approved by|' +
          'reviewed by|reported by|requested by|submitted by|written by|escalated by|assigned to|on behalf of',
      )}),?[ \t]+(${NAME2})`,
      'gu',
    ),
    needs:
      /\b(?:patient|paciente|paziente|customer|cliente|kund|colleague|co-?worker|manager|boss|wife|husband|partner|son|daughter|mother|father|mom|mum|dad|friend|brother|sister|aunt|uncle|kolleg|collègue|colega|collega|amig|amic|jef|chefe|signed by|approved by|reviewed by|reported by|requested by|submitted by|written by|escalated by|assigned to|on behalf of)/i,
    group: 1,
    validate: nameOk,
  },
  {
    // A relation after a possessive, or a spouse or child on file: one word is enough ("my aunt Rosa", "spouse
    // Dana", "daughter Mia", "ma sœur Inès"); also "the undersigned" in a declaration ("Il sottoscritto Giorgio Neri").
    pattern: new RegExp(
      String.raw`(?<![\p{L}])(?:(?:${eitherCase('my|our|his|her|their|mon|ma|mes|mein|meine|meinen|mi|mis|meu|minha|mio|mia')})[ \t]+(?:${eitherCase(
        'wife|husband|spouse|partner|son|daughter|child|mother|father|mom|mum|dad|brother|sister|aunt|uncle|niece|' +
          'nephew|grandmother|grandfather|grandma|grandpa|cousin|friend|femme|mari|fils|fille|mère|père|frère|sœur|' +
          'tante|oncle|Frau|Mann|Sohn|Tochter|Mutter|Vater|Bruder|Schwester|Tante|Onkel|esposa|esposo|hijo|hija|' +
          'madre|padre|hermano|hermana|tía|tío|mulher|marido|filho|filha|mãe|pai|irmão|irmã|tia|tio|moglie|marito|' +
          'figlio|figlia|fratello|sorella|zia|zio',
      )})|${eitherCase('spouse|daughter|son|the undersigned|le soussigné|la soussignée|il sottoscritto|la sottoscritta')})[ \t]+(${NAME})`,
      'gu',
    ),
    needs:
      /\b(?:my|our|his|her|their|mon|ma|mes|mein|meine|meinen|mi|mis|meu|minha|mio|mia|spouse|daughter|son|the undersigned|l[ea] soussignée?|il sottoscritto|la sottoscritta) /i,
    group: 1,
    validate: nameOk,
  },
  {
    // A greeting: "Dear Kwame,", "Hi Sunita,", "Hola Marisol,", "Liebe Katharina," (the comma after it counts).
    pattern: new RegExp(
      String.raw`(?<![\p{L}])(?:Dear|Hi|Hello|Hey|Bonjour|Cher|Chère|Liebe|Lieber|Hallo|Hola|Querido|Querida|Estimado|Estimada|Olá|Oi|Caro|Cara|Ciao|Gentile)[ \t]+(${NAME})[ \t]*[,!]`,
      'gu',
    ),
    needs:
      /(?:Dear|Hi|Hello|Hey|Bonjour|Cher|Chère|Liebe|Lieber|Hallo|Hola|Querid|Estimad|Olá|Oi|Caro|Cara|Ciao|Gentile) /,
    group: 1,
    validate: nameOk,
  },
  {
    // A sign-off line, then the name alone on the next line (Best regards,\nIngrid Halvorsen).
    pattern: new RegExp(
      String.raw`(?:^|\n)[ \t]*(?:${eitherCase(
        'best regards|kind regards|warm regards|regards|best|thanks|thank you|many thanks|cheers|sincerely|' +
          'yours sincerely|yours truly|cordialement|bien cordialement|bien à vous|mit freundlichen Grüßen|' +
          'freundliche Grüße|viele Grüße|beste Grüße|liebe Grüße|saludos|un saludo|saludos cordiales|atentamente|' +
          'atenciosamente|abraços|cordiali saluti|distinti saluti|saluti|un saluto',
      )})(?:[ \t]*[,!.])?[ \t]*\r?\n[ \t]*(?:(?:${TITLE})[ \t]+)?(${NAME})(?=[ \t]*(?:$|\r?\n|[|,–—-]))`,
      'gu',
    ),
    needs: /\n/,
    group: 1,
    validate: nameOk,
  },
];
