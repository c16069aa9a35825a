/** The generated workload's vocabulary: the slot values and templates `workload-generator.ts` draws from. */

export const COUNTRIES = [
  'Peru',
  'Kenya',
  'Norway',
  'Vietnam',
  'Portugal',
  'Chile',
  'Mongolia',
  'Ghana',
  'Finland',
  'Nepal',
];
export const BOOKS = [
  'Middlemarch',
  'The Master and Margarita',
  'Things Fall Apart',
  'Don Quixote',
  'The Leopard',
  'Beloved',
];
export const EVENTS = [
  'the fall of the Berlin Wall',
  'the first Moon landing',
  'the signing of the Magna Carta',
  'the Chernobyl accident',
  'the opening of the Suez Canal',
  'the invention of the printing press',
];
export const TERMS = [
  'inflation',
  'photosynthesis',
  'a mortgage escrow account',
  'opportunity cost',
  'an API gateway',
  'the placebo effect',
  'compound interest',
  'a tariff',
  'latency',
  'plate tectonics',
];
export const LANDMARKS = ['Machu Picchu', 'the Alhambra', 'Angkor Wat', 'the Atacama Desert', 'Lake Baikal', 'Petra'];
export const ACRONYMS = ['NATO', 'GDPR', 'HTTP', 'UNESCO', 'DNA', 'GDP', 'CPU', 'OECD'];
export const HOW_TASKS = [
  'get rid of fruit flies in my kitchen',
  'negotiate a higher salary',
  'clean a cast iron pan',
  'set up a monthly budget',
  'stop my sourdough from going flat',
  'prepare for a job interview at a bank',
  'fix a squeaky door hinge',
  'keep basil alive indoors',
  'improve my sleep',
  'back up my phone photos',
  'start running as a complete beginner',
  'write a good reference letter',
  'remove a red wine stain from a carpet',
  'learn Spanish vocabulary faster',
  'ask my landlord to fix the heating',
];
export const PHENOMENA = [
  'the sky look blue during the day',
  'bread go stale',
  'ice float on water',
  'the Moon have phases',
  'inflation reduce the value of savings',
  'vaccines train the immune system',
  'interest rates affect house prices',
  'airplanes stay in the air',
  'the Roman Empire decline',
  'leaves change colour in autumn',
];
export const PROCESSES = [
  'a heat pump',
  'public key cryptography',
  'the electoral college',
  'a neural network learns',
  'the kidneys filter blood',
  'a bill becomes law',
  'noise-cancelling headphones',
  'a credit score is calculated',
];
export const PLANS = [
  'a three-day trip to Lisbon on a small budget',
  'the migration of our team wiki to a new tool',
  'a study schedule for the bar exam over ten weeks',
  'a kitchen renovation with a fixed budget',
  'the launch of a small online shop',
  'a weekly meal plan for a family of four',
  'a community fundraiser for the local library',
  'moving to another city for a new job',
];
export const RECIPIENTS = ['my landlord', 'a customer', 'my manager', 'a professor', 'the hiring team', 'my neighbour'];
export const DRAFT_TOPICS = [
  'a delayed delivery',
  'a request for two days off',
  'a thank-you after an interview',
  'a change to the meeting time',
  'a noise complaint',
  'a late rent payment',
];
export const CODE_TASKS = [
  'reverses the words of a sentence',
  'checks whether a string is a palindrome',
  'merges two sorted lists',
  'parses a CSV file and sums one column',
  'removes duplicates from an array while keeping the order',
  'counts word frequencies in a text file',
  'validates an e-mail address',
  'retries an HTTP request with exponential backoff',
];
export const LANGUAGES = ['Python', 'JavaScript', 'TypeScript', 'Go', 'Java', 'Rust', 'SQL'];
export const CHAT = [
  'hi! how are you today?',
  "I'm bored. Tell me something fun.",
  'thanks, that was really helpful',
  'good morning :)',
  "I've had a rough week and just want to talk for a bit.",
  'do you like music?',
  'tell me a joke about cats',
  "what's your favourite season and why not",
  'I finally finished my thesis!!',
  'can we just chat for a minute',
];

// --- documents ---------------------------------------------------------------------------------------------------

export const DOC_SUBJECTS = [
  { name: 'the Harbor Bridge', kind: 'bridge' },
  { name: 'the Northfield clinic', kind: 'clinic' },
  { name: 'Project Aurora', kind: 'project' },
  { name: 'the city library', kind: 'library' },
  { name: 'the Riverside plant', kind: 'plant' },
  { name: 'the Meadow Lane school', kind: 'school' },
  { name: 'the Atlas battery', kind: 'product' },
  { name: 'the coastal rail line', kind: 'rail line' },
];
export const DOC_SENTENCES = [
  '{S} was completed in {year} after {n} years of work.',
  'The budget for {S} was {money} million dollars, of which {pct} percent came from public funds.',
  'According to the annual report, {S} served {big} people last year.',
  'The {kind} is managed by a board of {n} members elected every {small} years.',
  'In {year}, {S} introduced a new policy on opening hours and staffing.',
  'Critics argued that the cost of {S} was too high compared with similar projects.',
  'Maintenance of the {kind} costs about {money} thousand dollars a year.',
  'Since {year}, the number of complaints about {S} has fallen by {pct} percent.',
  'The main contractor for {S} was a regional firm with {big} employees.',
  'A survey found that {pct} percent of users were satisfied with the {kind}.',
  'The {kind} closed for {small} months in {year} for repairs to its roof and wiring.',
  'Plans for an expansion of {S} were approved in {year} but have not started yet.',
  'Energy use at the {kind} dropped by {pct} percent after new insulation was installed.',
  'The original design of {S} included {n} separate sections connected by walkways.',
  'Local newspapers reported that delays were caused by a shortage of skilled workers.',
  'The {kind} employs {n} full-time staff and about {small} volunteers.',
];
export const DOC_QUESTIONS = [
  'When was {S} completed?',
  'How much did {S} cost?',
  'How many people did {S} serve last year?',
  'According to the text, why were there delays?',
  'What happened to energy use at the {kind}?',
  'How many staff does the {kind} employ?',
  'Who manages the {kind}?',
  'What did the survey find?',
  'Based on the document, was the expansion started?',
  'what does it say about complaints',
];
export const SUMMARY_ASKS = [
  'Summarize this document in three bullet points.',
  'TL;DR please',
  'Give me the key points of the following report.',
  'Can you summarise this for my manager in two sentences?',
  'Summarise the text below and list any numbers it mentions.',
  'What are the main takeaways of this document?',
  'Write a short summary of this for a newsletter.',
];

export const SUBJECT_SUMMARY_ASKS = [
  'Summarize what this report says about {S}.',
  'Give me the main points about the {kind} from this text.',
  'Summarise the budget and the delays of {S} in a few sentences.',
  'Short summary of the {kind} report please, with the key numbers.',
];
