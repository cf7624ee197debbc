// The admin's words in English, French and German, and its numbers, money and dates in the
// merchant's language (Intl). The language is the `locale` Shopify passes to embedded apps
// (`fr`, `de-DE`, `en-US`), else the browser's, else English.

const LANGUAGES = ['en', 'fr', 'de'];

function chooseLocale() {
  const candidates = [new URLSearchParams(location.search).get('locale'), ...(navigator.languages ?? []), navigator.language];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const language = candidate.toLowerCase().split(/[-_]/)[0];
    if (!LANGUAGES.includes(language)) continue;
    try {
      return { language, locale: Intl.getCanonicalLocales(candidate.replace('_', '-'))[0] };
    } catch {
      return { language, locale: language };
    }
  }
  return { language: 'en', locale: 'en' };
}

export const { language, locale } = chooseLocale();
document.documentElement.lang = language;
const column = LANGUAGES.indexOf(language);

/** The text of `key` in the admin's language, `{name}` replaced by `params.name`. */
export function t(key, params = {}) {
  const texts = STRINGS[key];
  const text = texts ? texts[column] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const formats = new Map();
const format = (options) => {
  const id = JSON.stringify(options);
  if (!formats.has(id)) formats.set(id, new Intl.NumberFormat(locale, options));
  return formats.get(id);
};
const dayFormat = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });

/** An amount in `currency`; an unknown code still shows the number and the code. */
function money(amount, currency, options = {}) {
  const value = Number(amount ?? 0);
  try {
    return format({ style: 'currency', currency, ...options }).format(value);
  } catch {
    return `${format({ maximumFractionDigits: 2 }).format(value)} ${currency ?? ''}`.trim();
  }
}

export const fmt = {
  integer: (n) => format({ maximumFractionDigits: 0 }).format(Number(n ?? 0)),
  decimal: (n, digits = 2) => format({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(n ?? 0)),
  compact: (n) => format({ notation: 'compact', maximumFractionDigits: 1 }).format(n),
  /** A fraction as a percentage: 0.041 → 4.1 %. */
  percent: (fraction) => format({ style: 'percent', maximumFractionDigits: 1 }).format(Number(fraction ?? 0)),
  signedPercent: (fraction) => format({ style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(Number(fraction ?? 0)),
  money: (amount, currency) => money(amount, currency),
  /** For chart axes: €1.2K rather than €1,234.56. */
  moneyShort: (amount, currency) => money(amount, currency, { notation: 'compact', maximumFractionDigits: 1 }),
  /** A report day, `YYYY-MM-DD` in UTC. */
  day: (day) => dayFormat.format(new Date(`${day}T00:00:00Z`)),
  dateTime: (ms) => dateTimeFormat.format(new Date(Number(ms))),
};

const KNOWN_PLACEMENTS = ['product', 'cart', 'index', 'collection', 'search', 'page'];
export const strategyName = (strategy) => (STRINGS[`strategy_${strategy}`] ? t(`strategy_${strategy}`) : strategy);
export const placementName = (placement) => (placement == null ? t('placement_all')
  : KNOWN_PLACEMENTS.includes(placement) ? t(`placement_${placement}`) : placement);

// key: [English, French, German]
const STRINGS = {
  nav_label: ['Kindred sections', 'Sections de Kindred', 'Bereiche von Kindred'],
  nav_dashboard: ['Dashboard', 'Tableau de bord', 'Übersicht'],
  nav_rules: ['Rules', 'Règles', 'Regeln'],
  nav_preview: ['Preview', 'Aperçu', 'Vorschau'],
  nav_experiments: ['Experiments', 'Expériences', 'Experimente'],
  nav_settings: ['Settings', 'Paramètres', 'Einstellungen'],
  nav_billing: ['Billing', 'Facturation', 'Abrechnung'],
  skip_to_content: ['Skip to content', 'Aller au contenu', 'Zum Inhalt springen'],
  loading: ['Loading…', 'Chargement…', 'Wird geladen…'],
  save: ['Save', 'Enregistrer', 'Speichern'],

  error_network: ['Kindred could not be reached. Check your connection and try again.', 'Impossible de joindre Kindred. Vérifiez votre connexion et réessayez.', 'Kindred ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.'],
  error_http: ['Kindred answered with an error ({status}).', 'Kindred a répondu par une erreur ({status}).', 'Kindred hat mit einem Fehler geantwortet ({status}).'],
  error_unknown: ['Something went wrong.', 'Une erreur est survenue.', 'Etwas ist schiefgelaufen.'],
  error_no_picker: ['The product picker is only available inside Shopify’s admin.', 'Le sélecteur de produits n’est disponible que dans l’interface d’administration Shopify.', 'Die Produktauswahl ist nur in der Shopify-Verwaltung verfügbar.'],
  plan_limit_link: ['See plans in Billing', 'Voir les forfaits dans Facturation', 'Tarife unter Abrechnung ansehen'],

  range_label: ['Period', 'Période', 'Zeitraum'],
  range_days: ['{days} days', '{days} jours', '{days} Tage'],
  report_loaded: ['Report for the last {days} days loaded.', 'Rapport des {days} derniers jours chargé.', 'Bericht der letzten {days} Tage geladen.'],
  kpi_shown: ['Impressions', 'Impressions', 'Impressionen'],
  kpi_ctr: ['Click-through rate', 'Taux de clic', 'Klickrate'],
  kpi_revenue: ['Attributed revenue', 'Chiffre d’affaires attribué', 'Zugeordneter Umsatz'],
  kpi_lift: ['Holdout lift', 'Gain face au groupe témoin', 'Zuwachs gegenüber Kontrollgruppe'],
  kpi_clicked: ['{clicked} clicks', '{clicked} clics', '{clicked} Klicks'],
  kpi_days: ['Over {days} days', 'Sur {days} jours', 'Über {days} Tage'],
  kpi_window: ['Orders within {hours} h of a click', 'Commandes dans les {hours} h suivant un clic', 'Bestellungen bis {hours} Std. nach einem Klick'],
  lift_none: ['Not enough holdout data yet.', 'Pas encore assez de données du groupe témoin.', 'Noch nicht genug Daten der Kontrollgruppe.'],
  lift_settings_link: ['Holdout settings', 'Paramètres du groupe témoin', 'Einstellungen der Kontrollgruppe'],
  interval_text: ['95% interval {low} to {high}', 'Intervalle à 95 % : {low} à {high}', '95-%-Intervall: {low} bis {high}'],
  chart_shown: ['Impressions per day', 'Impressions par jour', 'Impressionen pro Tag'],
  chart_ctr: ['Click-through rate per day', 'Taux de clic par jour', 'Klickrate pro Tag'],
  chart_revenue: ['Attributed revenue per day', 'Chiffre d’affaires attribué par jour', 'Zugeordneter Umsatz pro Tag'],
  chart_lift: ['Revenue per visitor, Kindred against the holdout', 'Revenu par visiteur, Kindred face au groupe témoin', 'Umsatz pro Besucher, Kindred gegenüber der Kontrollgruppe'],
  chart_day: ['Day', 'Jour', 'Tag'],
  chart_total: ['total', 'total', 'gesamt'],
  chart_average: ['average', 'moyenne', 'Durchschnitt'],
  chart_summary: ['{title}, {from} to {to}: {total_label} {total}, highest {max} on {max_label}.', '{title}, du {from} au {to} : {total_label} {total}, maximum {max} le {max_label}.', '{title}, {from} bis {to}: {total_label} {total}, Höchstwert {max} am {max_label}.'],
  chart_empty: ['{title}: no data.', '{title} : aucune donnée.', '{title}: keine Daten.'],
  interval_summary: ['{title}: {estimate}, 95% interval {low} to {high}.', '{title} : {estimate}, intervalle à 95 % de {low} à {high}.', '{title}: {estimate}, 95-%-Intervall {low} bis {high}.'],
  interval_estimate: ['Estimate', 'Estimation', 'Schätzung'],
  interval_low: ['Low', 'Borne basse', 'Untergrenze'],
  interval_high: ['High', 'Borne haute', 'Obergrenze'],
  empty_title: ['No recommendations shown yet', 'Aucune recommandation affichée pour l’instant', 'Noch keine Empfehlungen angezeigt'],
  empty_body: ['Add the Kindred block to your theme in the theme editor. Impressions, clicks and revenue appear here within minutes of the first visits.', 'Ajoutez le bloc Kindred à votre thème dans l’éditeur de thème. Impressions, clics et chiffre d’affaires apparaissent ici quelques minutes après les premières visites.', 'Fügen Sie den Kindred-Block im Theme-Editor zu Ihrem Theme hinzu. Impressionen, Klicks und Umsatz erscheinen hier wenige Minuten nach den ersten Besuchen.'],
  aov_title: ['Average order value', 'Panier moyen', 'Durchschnittlicher Bestellwert'],
  aov_with: ['With recommendations', 'Avec recommandations', 'Mit Empfehlungen'],
  aov_without: ['Without recommendations', 'Sans recommandations', 'Ohne Empfehlungen'],
  rows_title: ['By strategy and placement', 'Par stratégie et emplacement', 'Nach Strategie und Platzierung'],
  rows_empty: ['No impressions in this period.', 'Aucune impression sur cette période.', 'Keine Impressionen in diesem Zeitraum.'],

  col_strategy: ['Strategy', 'Stratégie', 'Strategie'],
  col_placement: ['Placement', 'Emplacement', 'Platzierung'],
  col_shown: ['Shown', 'Affichés', 'Angezeigt'],
  col_clicked: ['Clicked', 'Cliqués', 'Geklickt'],
  col_ctr: ['CTR', 'Taux de clic', 'Klickrate'],
  col_added: ['Added to cart', 'Ajoutés au panier', 'In den Warenkorb'],
  col_attributed_orders: ['Attributed orders', 'Commandes attribuées', 'Zugeordnete Bestellungen'],
  col_revenue: ['Revenue', 'Chiffre d’affaires', 'Umsatz'],
  col_orders_kind: ['Order group', 'Groupe de commandes', 'Bestellgruppe'],
  col_orders: ['Orders', 'Commandes', 'Bestellungen'],
  col_aov: ['Average order value', 'Panier moyen', 'Ø Bestellwert'],
  col_name: ['Name', 'Nom', 'Name'],
  col_kind: ['Kind', 'Type', 'Art'],
  col_status: ['Status', 'État', 'Status'],
  col_arms: ['Arms (weight)', 'Variantes (poids)', 'Varianten (Gewicht)'],
  col_created: ['Created', 'Créée', 'Erstellt'],
  col_actions: ['Actions', 'Actions', 'Aktionen'],
  col_arm: ['Arm', 'Variante', 'Variante'],
  col_visitors: ['Visitors', 'Visiteurs', 'Besucher'],
  col_conversion: ['Conversion', 'Conversion', 'Conversion'],
  col_rpv: ['Revenue per visitor', 'Revenu par visiteur', 'Umsatz pro Besucher'],
  col_rpv_lift: ['Lift in revenue per visitor (95%)', 'Gain de revenu par visiteur (95 %)', 'Zuwachs Umsatz pro Besucher (95 %)'],
  col_conversion_lift: ['Lift in conversion (95%)', 'Gain de conversion (95 %)', 'Zuwachs Conversion (95 %)'],
  col_topic: ['Topic', 'Sujet', 'Thema'],
  col_attempts: ['Attempts', 'Tentatives', 'Versuche'],
  col_last_error: ['Last error', 'Dernière erreur', 'Letzter Fehler'],
  col_received: ['Received', 'Reçu', 'Empfangen'],
  col_key: ['Key', 'Clé', 'Schlüssel'],
  col_scope: ['Scope', 'Portée', 'Geltungsbereich'],

  strategy_similar: ['Similar products', 'Produits similaires', 'Ähnliche Produkte'],
  strategy_for_you: ['For you', 'Pour vous', 'Für Sie'],
  strategy_complementary: ['Bought together', 'Souvent achetés ensemble', 'Zusammen gekauft'],
  strategy_trending: ['Trending', 'Tendances', 'Im Trend'],
  strategy_recently_viewed: ['Recently viewed', 'Vus récemment', 'Zuletzt angesehen'],
  strategy_new_arrivals: ['New arrivals', 'Nouveautés', 'Neuheiten'],
  strategy_buy_again: ['Buy again', 'Racheter', 'Erneut kaufen'],
  strategy_block: ['As the block asks', 'Selon le bloc', 'Wie vom Block gewählt'],
  strategy_default: ['Default for the product', 'Par défaut pour le produit', 'Standard für das Produkt'],
  placement_all: ['All placements', 'Tous les emplacements', 'Alle Platzierungen'],
  placement_product: ['Product page', 'Page produit', 'Produktseite'],
  placement_cart: ['Cart', 'Panier', 'Warenkorb'],
  placement_index: ['Home page', 'Page d’accueil', 'Startseite'],
  placement_collection: ['Collection page', 'Page de collection', 'Kollektionsseite'],
  placement_search: ['Search', 'Recherche', 'Suche'],
  placement_page: ['Other page', 'Autre page', 'Andere Seite'],

  experiments_title: ['Experiments', 'Expériences', 'Experimente'],
  experiments_empty: ['No experiments yet.', 'Aucune expérience pour l’instant.', 'Noch keine Experimente.'],
  holdout_name: ['Holdout (Kindred against no recommendations)', 'Groupe témoin (Kindred face à aucune recommandation)', 'Kontrollgruppe (Kindred gegenüber keinen Empfehlungen)'],
  holdout_name_shopify: ['Holdout (Kindred against Shopify’s recommendations)', 'Groupe témoin (Kindred face aux recommandations de Shopify)', 'Kontrollgruppe (Kindred gegenüber Shopifys Empfehlungen)'],
  kind_holdout: ['Holdout', 'Groupe témoin', 'Kontrollgruppe'],
  kind_ab: ['A/B test', 'Test A/B', 'A/B-Test'],
  status_draft: ['Draft', 'Brouillon', 'Entwurf'],
  status_running: ['Running', 'En cours', 'Läuft'],
  status_stopped: ['Stopped', 'Arrêtée', 'Beendet'],
  experiment_start: ['Start', 'Démarrer', 'Starten'],
  experiment_stop: ['Stop', 'Arrêter', 'Beenden'],
  experiment_started: ['{name} started.', '{name} a démarré.', '{name} wurde gestartet.'],
  experiment_stopped: ['{name} stopped.', '{name} est arrêtée.', '{name} wurde beendet.'],
  experiment_results: ['Results', 'Résultats', 'Ergebnisse'],
  experiment_new: ['New A/B test', 'Nouveau test A/B', 'Neuer A/B-Test'],
  experiment_name: ['Name', 'Nom', 'Name'],
  experiment_placement: ['Placement', 'Emplacement', 'Platzierung'],
  experiment_placement_hint: ['Where the test runs; shoppers elsewhere see the usual shelf.', 'Où le test a lieu ; ailleurs, les clients voient la sélection habituelle.', 'Wo der Test läuft; an anderen Stellen sehen Kunden die übliche Auswahl.'],
  experiment_create: ['Create test', 'Créer le test', 'Test erstellen'],
  experiment_created: ['{name} created as a draft.', '{name} créé en brouillon.', '{name} als Entwurf erstellt.'],
  experiment_name_required: ['Give the test a name.', 'Donnez un nom au test.', 'Geben Sie dem Test einen Namen.'],
  experiment_arms_invalid: ['Every arm needs a name and a weight above 0.', 'Chaque variante doit avoir un nom et un poids supérieur à 0.', 'Jede Variante braucht einen Namen und ein Gewicht über 0.'],
  arm_legend: ['Arm {n}', 'Variante {n}', 'Variante {n}'],
  arm_name: ['Arm name', 'Nom de la variante', 'Name der Variante'],
  arm_weight: ['Weight', 'Poids', 'Gewicht'],
  arm_strategy: ['Strategy', 'Stratégie', 'Strategie'],
  arm_add: ['Add arm', 'Ajouter une variante', 'Variante hinzufügen'],
  arm_remove: ['Remove arm', 'Supprimer la variante', 'Variante entfernen'],
  arm_control: ['{name} (control)', '{name} (témoin)', '{name} (Kontrolle)'],
  results_title: ['Results: {name}', 'Résultats : {name}', 'Ergebnisse: {name}'],
  results_arms: ['Results per arm', 'Résultats par variante', 'Ergebnisse pro Variante'],
  results_lift_of: ['Revenue per visitor lift of {name}', 'Gain de revenu par visiteur de {name}', 'Zuwachs Umsatz pro Besucher von {name}'],
  srm_ok: ['Visitors are split as the weights say (sample ratio check p = {p}).', 'Les visiteurs sont répartis selon les poids (test de répartition p = {p}).', 'Die Besucher sind wie gewichtet verteilt (Stichprobenverhältnis p = {p}).'],
  srm_mismatch: ['Visitors are not split as the weights say (p = {p}): the results may be biased. Check that the block is on every page of the placement.', 'Les visiteurs ne sont pas répartis selon les poids (p = {p}) : les résultats peuvent être faussés. Vérifiez que le bloc figure sur chaque page de l’emplacement.', 'Die Besucher sind nicht wie gewichtet verteilt (p = {p}): Die Ergebnisse können verzerrt sein. Prüfen Sie, ob der Block auf jeder Seite der Platzierung ist.'],

  rules_exclude: ['Never recommend', 'Ne jamais recommander', 'Nie empfehlen'],
  rules_exclude_hint: ['Products matching any of these rules are left out of every shelf.', 'Les produits correspondant à l’une de ces règles sont exclus de toutes les sélections.', 'Produkte, auf die eine dieser Regeln zutrifft, erscheinen in keiner Auswahl.'],
  rules_pin: ['Show first', 'Afficher en premier', 'Zuerst zeigen'],
  rules_pin_hint: ['These products lead every shelf, in this order, when available.', 'Ces produits ouvrent chaque sélection, dans cet ordre, s’ils sont disponibles.', 'Diese Produkte stehen, wenn verfügbar, in dieser Reihenfolge am Anfang jeder Auswahl.'],
  rules_boost: ['Boost', 'Mettre en avant', 'Hervorheben'],
  rules_boost_hint: ['Scores are multiplied by the factor: above 1 lifts, below 1 lowers.', 'Les scores sont multipliés par le facteur : au-dessus de 1 ils montent, en dessous ils baissent.', 'Bewertungen werden mit dem Faktor multipliert: über 1 hebt an, unter 1 senkt.'],
  rules_bury: ['Show last', 'Afficher en dernier', 'Zuletzt zeigen'],
  rules_bury_hint: ['Kept, but after everything else.', 'Conservés, mais après tout le reste.', 'Bleiben erhalten, aber nach allen anderen.'],
  rules_options: ['Variety and exclusions', 'Diversité et exclusions', 'Vielfalt und Ausschlüsse'],
  rules_diversity: ['Variety on each shelf', 'Variété de chaque sélection', 'Vielfalt jeder Auswahl'],
  rules_diversity_hint: ['Higher shows more different products, fewer close look-alikes.', 'Plus élevé : des produits plus différents, moins de quasi-doublons.', 'Höher: unterschiedlichere Produkte, weniger Beinahe-Dubletten.'],
  rules_diversity_off: ['Off: most relevant first', 'Désactivée : les plus pertinents d’abord', 'Aus: die passendsten zuerst'],
  rules_diversity_light: ['Light', 'Légère', 'Leicht'],
  rules_diversity_balanced: ['Balanced (recommended)', 'Équilibrée (recommandée)', 'Ausgewogen (empfohlen)'],
  rules_diversity_strong: ['Strong', 'Forte', 'Stark'],
  rules_collapse_variants: ['One product per variant family', 'Un produit par famille de variantes', 'Ein Produkt pro Variantenfamilie'],
  rules_collapse_variants_hint: ['Colourways or sizes sold as separate products ("Mat - Black", "Mat - Sand") take one place.', 'Les coloris ou tailles vendus comme produits distincts (« Tapis - Noir », « Tapis - Sable ») prennent une seule place.', 'Farben oder Größen, die als eigene Produkte verkauft werden („Matte - Schwarz“, „Matte - Sand“), belegen einen Platz.'],
  rules_max_per_vendor: ['Most products of one vendor per shelf', 'Nombre maximal de produits d’un même fournisseur par sélection', 'Höchstens so viele Produkte eines Herstellers pro Auswahl'],
  rules_max_per_vendor_hint: ['Empty for no limit.', 'Vide pour aucune limite.', 'Leer für keine Grenze.'],
  rules_exclude_gift_cards: ['Never recommend gift cards', 'Ne jamais recommander de cartes-cadeaux', 'Nie Geschenkkarten empfehlen'],
  rules_exclude_purchased: ['Leave out what the shopper already bought', 'Exclure ce que le client a déjà acheté', 'Bereits gekaufte Produkte weglassen'],
  rules_add_products: ['Add products…', 'Ajouter des produits…', 'Produkte hinzufügen…'],
  rules_add_collections: ['Add collections…', 'Ajouter des collections…', 'Kollektionen hinzufügen…'],
  rules_add_rule: ['Add a rule', 'Ajouter une règle', 'Regel hinzufügen'],
  rules_add_pin: ['Add by id', 'Ajouter par identifiant', 'Per ID hinzufügen'],
  rules_add_condition: ['Add condition', 'Ajouter une condition', 'Bedingung hinzufügen'],
  rules_remove: ['Remove rule', 'Supprimer la règle', 'Regel entfernen'],
  rules_remove_pin: ['Remove', 'Supprimer', 'Entfernen'],
  rules_remove_condition: ['Remove condition', 'Supprimer la condition', 'Bedingung entfernen'],
  rules_choose: ['Choose…', 'Choisir…', 'Auswählen…'],
  rules_field: ['Condition', 'Condition', 'Bedingung'],
  rules_value: ['Value', 'Valeur', 'Wert'],
  rules_factor: ['Factor', 'Facteur', 'Faktor'],
  rules_factor_hint: ['For example 1.5', 'Par exemple 1,5', 'Zum Beispiel 1,5'],
  rules_pin_product: ['Product id', 'Identifiant du produit', 'Produkt-ID'],
  rules_move_up: ['Move up', 'Monter', 'Nach oben'],
  rules_move_down: ['Move down', 'Descendre', 'Nach unten'],
  rules_save: ['Save rules', 'Enregistrer les règles', 'Regeln speichern'],
  rules_saved: ['Rules saved. Shoppers see them on their next recommendations.', 'Règles enregistrées. Les clients les verront dès leurs prochaines recommandations.', 'Regeln gespeichert. Kunden sehen sie bei ihren nächsten Empfehlungen.'],
  rules_invalid_id: ['{place}: “{value}” is not a Shopify id (digits only).', '{place} : « {value} » n’est pas un identifiant Shopify (chiffres uniquement).', '{place}: „{value}“ ist keine Shopify-ID (nur Ziffern).'],
  rules_invalid_price: ['{place}: “{value}” is not an amount such as 25 or 25.50.', '{place} : « {value} » n’est pas un montant comme 25 ou 25.50.', '{place}: „{value}“ ist kein Betrag wie 25 oder 25.50.'],
  rules_invalid_empty: ['{place}: give at least one condition a value.', '{place} : renseignez au moins une condition.', '{place}: Geben Sie mindestens einer Bedingung einen Wert.'],
  rules_invalid_factor: ['{place}: the factor must be a number above 0.', '{place} : le facteur doit être un nombre supérieur à 0.', '{place}: Der Faktor muss eine Zahl über 0 sein.'],
  rules_invalid_max_per_vendor: ['The most products of one vendor must be a whole number above 0.', 'Le nombre maximal par fournisseur doit être un entier supérieur à 0.', 'Die Höchstzahl pro Hersteller muss eine ganze Zahl über 0 sein.'],
  rules_preview: ['Preview these rules', 'Prévisualiser ces règles', 'Vorschau dieser Regeln'],
  rules_preview_button: ['Preview', 'Prévisualiser', 'Vorschau'],
  rules_preview_product: ['Product id', 'Identifiant du produit', 'Produkt-ID'],
  rules_preview_product_hint: ['Optional: the product page to preview on.', 'Facultatif : la page produit sur laquelle prévisualiser.', 'Optional: die Produktseite für die Vorschau.'],
  rules_preview_strategy: ['Strategy', 'Stratégie', 'Strategie'],
  rules_before: ['Before (saved rules)', 'Avant (règles enregistrées)', 'Vorher (gespeicherte Regeln)'],
  rules_after: ['After (these rules)', 'Après (ces règles)', 'Nachher (diese Regeln)'],
  match_product_id: ['Product', 'Produit', 'Produkt'],
  match_collection: ['In collection', 'Dans la collection', 'In Kollektion'],
  match_tag: ['Has tag', 'A l’étiquette', 'Hat Tag'],
  match_vendor: ['Vendor', 'Fournisseur', 'Hersteller'],
  match_product_type: ['Product type', 'Type de produit', 'Produkttyp'],
  match_price_min: ['Price at least', 'Prix minimal', 'Preis mindestens'],
  match_price_max: ['Price at most', 'Prix maximal', 'Preis höchstens'],

  shelf_empty: ['Nothing to show on this shelf.', 'Rien à afficher dans cette sélection.', 'In dieser Auswahl gibt es nichts anzuzeigen.'],
  shelf_fell_back: ['Nothing of its own: showing {strategy} instead.', 'Rien en propre : affiche {strategy} à la place.', 'Nichts Eigenes: zeigt stattdessen {strategy}.'],
  price_was: ['Was ', 'Avant ', 'Vorher '],
  product_id: ['Id {id}', 'Id {id}', 'ID {id}'],
  preview_choose: ['Preview for', 'Aperçu pour', 'Vorschau für'],
  preview_pick_product: ['Choose a product…', 'Choisir un produit…', 'Produkt auswählen…'],
  preview_pick_collection: ['Choose a collection…', 'Choisir une collection…', 'Kollektion auswählen…'],
  preview_shopper: ['Recent shopper', 'Client récent', 'Kürzlicher Kunde'],
  preview_shopper_choose: ['Choose a shopper', 'Choisir un client', 'Kunden auswählen'],
  preview_shopper_none: ['No recent shoppers', 'Aucun client récent', 'Keine kürzlichen Kunden'],
  preview_shopper_option: ['{id}… seen {when}, {events} events', '{id}… vu le {when}, {events} événements', '{id}… gesehen {when}, {events} Ereignisse'],
  preview_show_shopper: ['Show', 'Afficher', 'Anzeigen'],
  preview_pick_first: ['Choose a product, a collection or a shopper to see every shelf as the storefront would show it.', 'Choisissez un produit, une collection ou un client pour voir chaque sélection telle que la boutique l’afficherait.', 'Wählen Sie ein Produkt, eine Kollektion oder einen Kunden, um jede Auswahl so zu sehen, wie der Shop sie zeigen würde.'],
  preview_for_product: ['Shelves for the product {title} ({id})', 'Sélections pour le produit {title} ({id})', 'Auswahlen für das Produkt {title} ({id})'],
  preview_for_collection: ['Shelves for the collection {title} ({id})', 'Sélections pour la collection {title} ({id})', 'Auswahlen für die Kollektion {title} ({id})'],
  preview_for_shopper: ['Shelves for the shopper {id}', 'Sélections pour le client {id}', 'Auswahlen für den Kunden {id}'],
  preview_loaded: ['{count} shelves loaded.', '{count} sélections chargées.', '{count} Auswahlen geladen.'],
  preview_none: ['No shelf has anything to show.', 'Aucune sélection n’a de contenu.', 'Keine Auswahl hat etwas anzuzeigen.'],

  settings_measurement: ['Attribution and holdout', 'Attribution et groupe témoin', 'Zuordnung und Kontrollgruppe'],
  settings_window: ['Attribution window (hours)', 'Fenêtre d’attribution (heures)', 'Zuordnungsfenster (Stunden)'],
  settings_window_hint: ['An order counts for a recommendation clicked this long before it.', 'Une commande compte pour une recommandation cliquée au plus tant d’heures avant.', 'Eine Bestellung zählt für eine Empfehlung, die höchstens so lange vorher geklickt wurde.'],
  settings_holdout: ['Keep a holdout group', 'Conserver un groupe témoin', 'Kontrollgruppe behalten'],
  settings_holdout_hint: ['A share of shoppers sees no Kindred recommendations, so that the lift can be measured.', 'Une part des clients ne voit aucune recommandation Kindred, pour mesurer le gain.', 'Ein Teil der Kunden sieht keine Kindred-Empfehlungen, damit der Zuwachs messbar ist.'],
  settings_share: ['Holdout share (%)', 'Part du groupe témoin (%)', 'Anteil der Kontrollgruppe (%)'],
  settings_share_hint: ['Between 1 and 50.', 'Entre 1 et 50.', 'Zwischen 1 und 50.'],
  settings_control: ['The holdout sees', 'Le groupe témoin voit', 'Die Kontrollgruppe sieht'],
  settings_control_hint: ['What shoppers in the holdout see where the block would be.', 'Ce que voient les clients du groupe témoin à la place du bloc.', 'Was Kunden der Kontrollgruppe anstelle des Blocks sehen.'],
  control_none: ['No recommendations', 'Aucune recommandation', 'Keine Empfehlungen'],
  control_shopify: ['Shopify’s own recommendations', 'Les recommandations de Shopify', 'Die Empfehlungen von Shopify'],
  settings_retention: ['Shopper events are kept for {days} days.', 'Les événements des clients sont conservés {days} jours.', 'Kundenereignisse werden {days} Tage aufbewahrt.'],
  settings_saved: ['Settings saved.', 'Paramètres enregistrés.', 'Einstellungen gespeichert.'],
  settings_sync: ['Catalogue and orders', 'Catalogue et commandes', 'Katalog und Bestellungen'],
  settings_webhooks: ['Webhooks', 'Webhooks', 'Webhooks'],
  settings_keys: ['Storefront keys', 'Clés de boutique', 'Shop-Schlüssel'],
  settings_origins: ['Allowed origins (headless)', 'Origines autorisées (headless)', 'Erlaubte Ursprünge (Headless)'],
  sync_catalogue: ['Catalogue', 'Catalogue', 'Katalog'],
  sync_orders: ['Order history', 'Historique des commandes', 'Bestellverlauf'],
  sync_state: ['State', 'État', 'Status'],
  sync_products: ['Products', 'Produits', 'Produkte'],
  sync_indexed: ['Searchable', 'Indexés', 'Durchsuchbar'],
  sync_finished: ['Last finished', 'Dernière fin', 'Zuletzt beendet'],
  sync_error: ['Last error', 'Dernière erreur', 'Letzter Fehler'],
  sync_orders_count: ['Orders', 'Commandes', 'Bestellungen'],
  sync_orders_value: ['{orders} ({test} test orders)', '{orders} (dont {test} de test)', '{orders} (davon {test} Testbestellungen)'],
  sync_never: ['Never run', 'Jamais lancée', 'Nie ausgeführt'],
  sync_requested: ['Requested', 'Demandée', 'Angefordert'],
  sync_running: ['Running', 'En cours', 'Läuft'],
  sync_ingesting: ['Reading the results', 'Lecture des résultats', 'Ergebnisse werden gelesen'],
  sync_completed: ['Completed', 'Terminée', 'Abgeschlossen'],
  sync_failed: ['Failed', 'Échouée', 'Fehlgeschlagen'],
  sync_now_catalogue: ['Sync catalogue now', 'Synchroniser le catalogue', 'Katalog jetzt synchronisieren'],
  sync_now_orders: ['Sync orders now', 'Synchroniser les commandes', 'Bestellungen jetzt synchronisieren'],
  sync_already: ['A sync is already running.', 'Une synchronisation est déjà en cours.', 'Eine Synchronisierung läuft bereits.'],
  pixel_connected: ['The web pixel is connected.', 'Le pixel web est connecté.', 'Das Web-Pixel ist verbunden.'],
  pixel_missing: ['The web pixel is not connected yet.', 'Le pixel web n’est pas encore connecté.', 'Das Web-Pixel ist noch nicht verbunden.'],
  webhook_pending: ['Waiting to be applied', 'En attente de traitement', 'Warten auf Verarbeitung'],
  webhook_failed: ['Failed', 'En échec', 'Fehlgeschlagen'],
  webhook_failed_list: ['Failed deliveries', 'Livraisons en échec', 'Fehlgeschlagene Zustellungen'],
  webhook_none_failed: ['No failed deliveries.', 'Aucune livraison en échec.', 'Keine fehlgeschlagenen Zustellungen.'],
  webhook_retry: ['Retry', 'Réessayer', 'Erneut versuchen'],
  webhook_queued: ['Queued again', 'Remis en file', 'Erneut eingereiht'],
  keys_hint: ['A storefront key lets a headless storefront’s browser ask for recommendations and send events.', 'Une clé de boutique permet au navigateur d’une boutique headless de demander des recommandations et d’envoyer des événements.', 'Mit einem Shop-Schlüssel kann der Browser eines Headless-Shops Empfehlungen abrufen und Ereignisse senden.'],
  keys_none: ['No keys yet.', 'Aucune clé pour l’instant.', 'Noch keine Schlüssel.'],
  key_create: ['Create storefront key', 'Créer une clé de boutique', 'Shop-Schlüssel erstellen'],
  key_created_once: ['Copy this key now: it is not shown again.', 'Copiez cette clé maintenant : elle ne sera plus affichée.', 'Kopieren Sie diesen Schlüssel jetzt: Er wird nicht erneut angezeigt.'],
  key_new_label: ['New storefront key', 'Nouvelle clé de boutique', 'Neuer Shop-Schlüssel'],
  key_copy: ['Copy', 'Copier', 'Kopieren'],
  key_copied: ['Key copied.', 'Clé copiée.', 'Schlüssel kopiert.'],
  key_active: ['Active', 'Active', 'Aktiv'],
  key_revoked_at: ['Revoked {when}', 'Révoquée le {when}', 'Widerrufen am {when}'],
  key_revoke: ['Revoke', 'Révoquer', 'Widerrufen'],
  key_revoke_confirm: ['Confirm revoke', 'Confirmer la révocation', 'Widerruf bestätigen'],
  key_revoked: ['Key revoked.', 'Clé révoquée.', 'Schlüssel widerrufen.'],
  scope_storefront: ['Storefront (public)', 'Boutique (publique)', 'Shop (öffentlich)'],
  scope_merchant: ['Merchant (secret)', 'Marchand (secrète)', 'Händler (geheim)'],
  scope_admin: ['Operator', 'Opérateur', 'Betreiber'],
  origins_hint: ['Browsers on these origins may use a storefront key, e.g. https://shop.example.com.', 'Les navigateurs sur ces origines peuvent utiliser une clé de boutique, par ex. https://shop.example.com.', 'Browser auf diesen Ursprüngen dürfen einen Shop-Schlüssel verwenden, z. B. https://shop.example.com.'],
  origins_none: ['No origins allowed.', 'Aucune origine autorisée.', 'Keine Ursprünge erlaubt.'],
  origins_saved: ['Allowed origins saved.', 'Origines autorisées enregistrées.', 'Erlaubte Ursprünge gespeichert.'],
  origin_new: ['Origin', 'Origine', 'Ursprung'],
  origin_add: ['Add origin', 'Ajouter l’origine', 'Ursprung hinzufügen'],
  origin_remove: ['Remove', 'Supprimer', 'Entfernen'],
  origin_remove_named: ['Remove {origin}', 'Supprimer {origin}', '{origin} entfernen'],

  billing_current: ['Current plan', 'Forfait actuel', 'Aktueller Tarif'],
  billing_subscription: ['Subscription “{name}”: {status}', 'Abonnement « {name} » : {status}', 'Abonnement „{name}“: {status}'],
  billing_test: ['Test charge', 'Facturation de test', 'Testabrechnung'],
  billing_price: ['{price} {interval}', '{price} {interval}', '{price} {interval}'],
  billing_free: ['Free', 'Gratuit', 'Kostenlos'],
  billing_trial: ['{days}-day free trial', 'Essai gratuit de {days} jours', '{days} Tage kostenlos testen'],
  billing_choose: ['Choose', 'Choisir', 'Auswählen'],
  billing_is_current: ['Current plan', 'Forfait actuel', 'Aktueller Tarif'],
  interval_EVERY_30_DAYS: ['every 30 days', 'tous les 30 jours', 'alle 30 Tage'],
  interval_ANNUAL: ['per year', 'par an', 'pro Jahr'],
  subscription_active: ['active', 'actif', 'aktiv'],
  subscription_pending: ['waiting for approval', 'en attente d’approbation', 'wartet auf Bestätigung'],
  subscription_accepted: ['accepted', 'accepté', 'angenommen'],
  subscription_declined: ['declined', 'refusé', 'abgelehnt'],
  subscription_cancelled: ['cancelled', 'annulé', 'gekündigt'],
  subscription_expired: ['expired', 'expiré', 'abgelaufen'],
  subscription_frozen: ['frozen', 'gelé', 'eingefroren'],
};
