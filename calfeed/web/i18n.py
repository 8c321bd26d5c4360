"""Every page string in one table per language, and dates written out the way
people read them (Babel's CLDR data, not hand-made month tables)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list

from calfeed.model import Event
from calfeed.occurrences import Occurrence, last_day, last_day_of, local_day

STRINGS: dict[str, dict[str, str]] = {
    "it": {
        "upcoming": "Prossimi eventi",
        "past": "Eventi passati",
        "no_events": "Nessun evento in programma.",
        "no_past": "Nessun evento passato.",
        "all_events": "Tutti gli eventi",
        "filters": "Filtra gli eventi",
        "category": "Categoria",
        "place": "Luogo",
        "any": "Tutti",
        "apply": "Applica",
        "subscribe": "Iscriviti al calendario",
        "subscribe_help": "Il calendario si aggiorna da solo: iscriviti una volta e vedrai sempre gli eventi nuovi.",
        "apple": "Apple Calendar / iPhone",
        "google": "Google Calendar",
        "outlook": "Outlook.com",
        "office": "Microsoft 365",
        "feed_url": "Indirizzo del calendario",
        "copy": "Copia",
        "embed": "Inserisci nel tuo sito",
        "embed_help": "Copia questo codice nella tua pagina per mostrare i prossimi eventi.",
        "cancelled": "Annullato",
        "tentative": "Da confermare",
        "all_day": "tutto il giorno",
        "map": "Vedi sulla mappa (OpenStreetMap)",
        "no_map": "Mappa non disponibile",
        "online": "Segui online",
        "categories": "Categorie",
        "attachments": "Documenti",
        "download": "Scarica",
        "more_info": "Maggiori informazioni",
        "organizer": "Organizza",
        "add_google": "Aggiungi a Google Calendar",
        "add_outlook": "Aggiungi a Outlook",
        "download_ics": "Scarica l'evento (.ics)",
        "next_dates": "Prossime date",
        "when": "Quando",
        "where": "Dove",
        "more": "Tutti gli eventi sul sito",
        # Error pages: a title and a text for each status, else the generic ones.
        "error": "Errore",
        "error_text": "Non è stato possibile rispondere a questa richiesta.",
        "error_400": "Richiesta non valida",
        "error_400_text": "La richiesta contiene valori che il calendario non accetta.",
        "error_403": "Accesso negato",
        "error_403_text": "Non è permesso aprire questa pagina.",
        "error_404": "Pagina non trovata",
        "error_404_text": "Questa pagina non esiste: forse l'indirizzo è sbagliato, o l'evento è stato tolto dal calendario.",
        "error_405": "Metodo non consentito",
        "error_405_text": "Questo indirizzo non accetta questo tipo di richiesta.",
        "error_413": "Richiesta troppo grande",
        "error_413_text": "La richiesta è più grande di quanto il calendario accetti.",
        "error_429": "Troppe richieste",
        "error_429_text": "Troppe richieste in poco tempo: riprova più tardi.",
        "error_500": "Errore del server",
        "error_500_text": "Qualcosa non ha funzionato da parte nostra: riprova più tardi.",
        # What a refused request is told (pages and /events.json), with its blanks.
        "no_event": 'Nessun evento "{id}" in questo calendario.',
        "no_category": 'Nessuna categoria "{slug}" in questo calendario.',
        "no_place": 'Nessun luogo "{slug}" in questo calendario.',
        "no_month": "Nessuna pagina per questo mese: i mesi vanno dal 1900 al 2199.",
        "bad_day": "{name} deve essere un giorno scritto come AAAA-MM-GG (anni dal 1900 al 2199), non {value!r}",
        "bad_limit": "limit deve essere un numero intero da 1 a {maximum}, non {value!r}",
        "bad_range": "to ({last}) è prima di from ({first})",
        "bad_query": "L'indirizzo contiene caratteri non validi (byte che non sono UTF-8).",
        "qr_too_long": "Troppi filtri per un solo codice QR: scegline di meno.",
        "month": "Calendario del mese",
        "by_category": "Calendari per categoria",
        "by_place": "Calendari per luogo",
        "previous_month": "Mese precedente",
        "next_month": "Mese successivo",
        "today": "oggi",
        "print": "Stampa",
        "qr_feed": "Inquadra il codice per iscriverti al calendario",
        "qr_event": "Inquadra il codice per aprire questa pagina",
        # The editor (/edit/).
        "edit_title": "Modifica del calendario",
        "edit_login": "Accedi",
        "edit_login_help": "Accesso riservato a chi cura il calendario.",
        "edit_username": "Nome utente",
        "edit_password": "Password",
        "edit_login_failed": "Nome utente o password non corretti.",
        "edit_locked": "Troppi tentativi non riusciti: riprova tra {minutes} minuti.",
        "edit_logout": "Esci",
        "edit_signed_in": "Accesso come {name}",
        "edit_events": "Eventi",
        "edit_new": "Nuovo evento",
        "edit_search": "Cerca per titolo",
        "edit_search_button": "Cerca",
        "edit_show_past": "Mostra gli eventi passati",
        "edit_show_upcoming": "Mostra i prossimi eventi",
        "edit_no_match": "Nessun evento trovato.",
        "edit_recurring": "si ripete",
        "edit_edit": "Modifica",
        "edit_view": "Vedi la pagina pubblica",
        "edit_save": "Salva",
        "edit_delete": "Elimina",
        "edit_delete_title": "Eliminare «{title}»?",
        "edit_delete_help": "Chi è iscritto al calendario vedrà l'evento sparire senza spiegazione. Se l'evento non si terrà, è meglio segnarlo come «Annullato»: resta nel calendario, barrato, e chi lo aspettava lo sa.",
        "edit_cancel_instead": "Segna come annullato (consigliato)",
        "edit_delete_confirm": "Elimina definitivamente",
        "edit_back": "Torna all'elenco",
        "edit_saved": "Salvato: «{title}».",
        "edit_unchanged": "Nessuna modifica da salvare.",
        "edit_deleted": "Eliminato: «{title}».",
        "edit_id": "Identificativo: {id} (non cambia mai)",
        "edit_kept": "Restano come nel file anche: {keys}.",
        "edit_refused": "L'evento non è stato salvato: correggi i campi segnalati.",
        "edit_refused_elsewhere": "Problemi che riguardano altre parti del file:",
        "edit_conflict_title": "Nel frattempo l'evento è stato cambiato",
        "edit_conflict_help": "Mentre compilavi il modulo qualcun altro ha modificato questo evento (nel browser o a mano nel file). Non è stato salvato niente. Confronta le due versioni: per tenere la tua premi di nuovo «Salva»; per ripartire da quella nel file, ricarica l'evento.",
        "edit_conflict_deleted": "L'evento è stato eliminato dal file nel frattempo: salvando, lo crei di nuovo come evento nuovo.",
        "edit_in_file": "Nel file adesso",
        "edit_yours": "La tua versione",
        "edit_field": "Campo",
        "edit_reload": "Ricarica l'evento dal file",
        "edit_bad_when": "Scrivi una data (AAAA-MM-GG) o una data con ora (AAAA-MM-GGTHH:MM).",
        "edit_bad_dates": "Una data per riga: AAAA-MM-GG oppure AAAA-MM-GGTHH:MM.",
        "edit_csrf": "Il modulo è scaduto o non viene da questa pagina: torna indietro, ricarica la pagina e riprova.",
        "edit_none": "— nessuno —",
        "edit_confirmed": "Confermato",
        "edit_duplicate": "Duplica",
        "edit_copy": "{title} (copia)",
        "edit_cancel_event": "Annulla evento",
        "edit_restore_event": "Ripristina",
        "edit_status_cancelled": "Segnato come annullato: «{title}».",
        "edit_status_confirmed": "Ripristinato: «{title}».",
        "edit_preview": "Anteprima",
        "edit_preview_note": "Anteprima: niente è stato salvato. Premi «Salva» per pubblicare.",
        "edit_next_dates": "Prossime date, come le avrà il calendario",
        "edit_no_next_dates": "Nessuna data in programma.",
        "edit_pick_exdates": "Spunta le date da togliere dalla ripetizione.",
        "edit_weekly": "Ripeti ogni settimana nei giorni",
        "edit_weekly_until": "fino al (compreso; vuoto: senza fine)",
        "edit_bad_until": "Scrivi la data di fine come AAAA-MM-GG.",
        "edit_rule_raw_wins": "La regola scritta a mano è diversa dai giorni spuntati: è stata usata la regola scritta a mano ({rule}).",
        "edit_rule_date_cancelled": "annullata",
        "edit_history": "Cronologia",
        "edit_history_help": "Le ultime modifiche al file, dalla più recente. «Annulla» scrive la modifica opposta come una nuova modifica.",
        "edit_no_history": "Ancora nessuna modifica registrata.",
        "edit_undo": "Annulla",
        "edit_undone": "Annullato: «{title}».",
        "edit_no_change": "Nessuna modifica con questo riferimento.",
        "edit_undo_conflict": "Non annullato: nel frattempo l'evento è stato cambiato. Niente è stato scritto. Ecco le due versioni.",
        "edit_undo_impossible": "Non annullato: le righe intorno a questa modifica sono cambiate nel frattempo. Niente è stato scritto: correggi l'evento dal modulo.",
        "edit_undo_would": "Come tornerebbe",
        "edit_by": "di {author}",
        "f_title": "Titolo",
        "f_start": "Inizio",
        "f_end": "Fine",
        "f_all_day": "Tutto il giorno (per un evento di più giorni, la fine è l'ultimo giorno)",
        "f_duration": "Oppure durata (es. PT2H per due ore), al posto della fine",
        "f_place": "Luogo (dall'elenco dei luoghi)",
        "f_location": "Oppure luogo scritto a mano (indirizzo, «online»…)",
        "f_categories": "Categorie",
        "f_new_categories": "Altre categorie, separate da virgole",
        "f_description": "Descrizione",
        "f_url": "Pagina dell'evento su un altro sito (link)",
        "f_online": "Link per seguire online (uno per riga)",
        "f_attachments": "Documenti da scaricare (un link per riga)",
        "f_image": "Locandina (link a un'immagine)",
        "f_status": "Stato",
        "f_rrule": "Oppure la regola completa (RRULE, es. FREQ=MONTHLY;BYDAY=1SA); se scritta, vale questa",
        "f_exdates": "Date tolte dalla ripetizione (una per riga)",
        "next_date": "Prossima data",
        "feed_rss": "Prossimi eventi (RSS)",
        "feed_atom": "Prossimi eventi (Atom)",
        "list_repeats": "si ripete",
        "list_rule": "Si ripete",
        # Import from the browser (/edit/import).
        "import_title": "Importa un calendario",
        "import_help": "Incolla l'indirizzo di un calendario (.ics) o carica un file .ics: vedrai prima quali eventi verrebbero aggiunti e che cosa resterebbe fuori; niente viene scritto finché non confermi. Gli eventi già nel calendario (stesso UID) restano come sono.",
        "import_url": "Indirizzo del calendario (https://…)",
        "import_file": "Oppure un file .ics (al massimo {limit} MB)",
        "import_preview": "Mostra l'anteprima",
        "import_confirm": "Importa questi eventi",
        "import_cancel": "Lascia stare",
        "import_choose": "Incolla un indirizzo oppure scegli un file .ics.",
        "import_both": "Incolla un indirizzo oppure scegli un file, non entrambi.",
        "import_only_web": "Solo indirizzi che iniziano con http:// o https://.",
        "import_failed": "Importazione non riuscita: niente è stato scritto.",
        "import_private": "{host} è un indirizzo di una rete privata o di questo server ({address}): da qui si importa solo da indirizzi pubblici su internet.",
        "import_too_large": "Il calendario supera {limit} MB: è davvero un calendario?",
        "import_not_icalendar": "Non è un calendario iCalendar (.ics): il file dovrebbe iniziare con BEGIN:VCALENDAR. Forse è una pagina web o l'indirizzo sbagliato?",
        "import_cut_short": "Il calendario è troncato (manca END:VCALENDAR): scaricalo di nuovo.",
        "import_webcal": "È un link di iscrizione: importa il suo indirizzo https, {https}",
        "import_timeout": "Lo scaricamento ha richiesto più di {seconds} secondi: riprova, oppure salva il file e caricalo.",
        "import_http_status": "Il server ha risposto con l'errore {status}.",
        "import_unknown_host": "Il nome {host} non esiste (controlla l'indirizzo).",
        "import_file_has_errors": "Il file events.toml ha degli errori: vanno corretti prima di importare.",
        "import_nothing_new": "Niente da aggiungere: ogni evento di {source} è già nel calendario (o è stato lasciato fuori, vedi sotto).",
        "import_will_add": "Verrebbero aggiunti {count} eventi da {source}:",
        "import_report": "Resoconto dell'importazione (come lo scrive «calfeed import --merge»)",
        "import_preview_note": "Anteprima: niente è stato scritto. Premi «Importa questi eventi» per aggiungerli al calendario.",
        "import_changed": "Il calendario è cambiato dopo l'anteprima (un'altra modifica nel frattempo): non è stato importato niente. Rifai l'anteprima.",
        "import_expired": "Questa anteprima non c'è più (è scaduta o è già stata importata): rifai l'anteprima.",
        "import_done": "Importati {count} eventi da {source}.",
        "import_commit": "Importati {count} eventi da {source}",
        "place_places": "Luoghi",
        "place_settings": "Impostazioni del calendario",
        "place_none": "Ancora nessun luogo.",
        "place_slug": "Identificativo: {slug} (non cambia mai)",
        "place_uses": "eventi che lo usano: {count}",
        "place_new": "Nuovo luogo",
        "place_new_help": "L'identificativo del luogo è fatto dal nome e non cambia più, anche se il nome cambia.",
        "place_add": "Aggiungi il luogo",
        "place_f_name": "Nome",
        "place_f_address": "Indirizzo",
        "place_f_geo": "Posizione sulla mappa (facoltativa; entrambe o nessuna)",
        "place_f_lat": "Latitudine (es. 45.0907)",
        "place_f_lon": "Longitudine (es. 7.6913)",
        "place_f_url": "Sito del luogo (link)",
        "place_bad_geo": "Scrivi latitudine e longitudine come numeri (es. 45.0907 e 7.6913), oppure lasciale vuote entrambe.",
        "place_bad_past_days": "Scrivi un numero intero di giorni, oppure lascia vuoto per tenere tutti gli eventi.",
        "place_refused": "Non salvato: correggi i campi segnalati. Niente è stato scritto.",
        "place_added": "Aggiunto il luogo «{name}».",
        "place_saved": "Salvato il luogo «{name}».",
        "place_deleted": "Eliminato il luogo «{name}».",
        "place_settings_saved": "Impostazioni del calendario salvate.",
        "place_conflict_title": "Nel frattempo è stato cambiato",
        "place_conflict_help": "Mentre compilavi il modulo qualcun altro ha modificato questa parte del file. Non è stato salvato niente. Per tenere la tua versione premi di nuovo «Salva»; per ripartire da quella nel file, ricarica la pagina.",
        "place_feed": "Calendario degli eventi in questo luogo",
        "place_back": "Torna ai luoghi",
        "place_back_to_place": "Torna al luogo",
        "place_used_by": "Eventi in questo luogo",
        "place_delete_title": "Eliminare il luogo «{name}»?",
        "place_delete_help": "Nessun evento usa questo luogo: si può eliminare.",
        "place_in_use": "Il luogo non si può eliminare: questi eventi lo usano. Cambia prima il loro luogo.",
        "place_s_name": "Nome del calendario",
        "place_s_description": "Descrizione",
        "place_s_timezone": "Fuso orario (es. Europe/Rome)",
        "place_s_language": "Lingua delle pagine",
        "place_s_refresh": "Ogni quanto i calendari iscritti si aggiornano (es. PT6H per sei ore)",
        "place_s_past_days": "Togli dal calendario gli eventi finiti da più di questi giorni (vuoto: tienili tutti)",
        "place_s_base_url": "Indirizzo pubblico del sito (base_url)",
        "place_base_url_fixed": "Stabilito da CALFEED_BASE_URL sul server: qui non si può cambiare.",
        "place_default": "— predefinita —",
        "place_language_it": "Italiano",
        "place_language_en": "Inglese",
        "place_by_hand": "Non salvato: nel file questa parte non è scritta come una tabella a sé ([places.<slug>] o [calendar]), quindi va modificata a mano. Niente è stato scritto.",
        "prop_link": "Proponi un evento",
        "prop_title": "Proponi un evento",
        "prop_intro": "Chiunque può proporre un evento. Un redattore lo legge prima di pubblicarlo: finché non è approvato non compare da nessuna parte.",
        "prop_email": "La tua e-mail (solo per i redattori, mai pubblicata)",
        "prop_honeypot": "Lascia vuoto questo campo",
        "prop_send": "Invia la proposta",
        "prop_refused": "La proposta non è stata inviata: correggi i campi segnalati.",
        "prop_try_later": "Troppe proposte in questo momento: riprova più tardi.",
        "prop_closed": "Le proposte sono chiuse in questo momento: riprova più tardi.",
        "prop_expired": "Il modulo è rimasto aperto troppo a lungo: controlla i campi e invialo di nuovo.",
        "prop_too_long": "Testo troppo lungo: accorcialo.",
        "prop_control": "Contiene caratteri non ammessi.",
        "prop_html": "Niente HTML: scrivi solo testo (il link va nel suo campo).",
        "prop_bad_email": "Serve un indirizzo e-mail valido, per poterti rispondere.",
        "prop_categories": "Scegli tra le categorie dell'elenco (al massimo 5).",
        "prop_place": "Scegli un luogo dell'elenco, oppure scrivilo nel campo sotto.",
        "prop_required": "Campo obbligatorio.",
        "prop_past": "Questa data è già passata.",
        "prop_thanks_title": "Grazie per la proposta!",
        "prop_thanks_text": "Un redattore la leggerà presto. Se la approva, l'evento comparirà sul sito e nel calendario; altrimenti non sarà pubblicato. Se serve un chiarimento, potrà scriverti all'indirizzo che hai lasciato.",
        "prop_thanks_follow": "Per vedere gli eventi approvati, iscriviti al calendario dalla pagina principale: si aggiorna da solo.",
        "prop_another": "Proponi un altro evento",
        "prop_queue": "Proposte",
        "prop_queue_title": "Proposte da approvare",
        "prop_queue_empty": "Nessuna proposta in attesa.",
        "prop_received": "Arrivata il {time} da {email}",
        "prop_approve": "Approva",
        "prop_approve_edited": "Approva con queste modifiche",
        "prop_review": "Controlla e modifica",
        "prop_reject": "Rifiuta",
        "prop_reason": "Motivo del rifiuto (facoltativo)",
        "prop_approved": "Approvato: «{title}» è nel calendario ({id}).",
        "prop_rejected": "Rifiutata: «{title}».",
        "prop_gone": "Questa proposta non è più in attesa: è già stata decisa.",
        "prop_commit": "Approvato: {title} (proposto da {contact})",
        "prop_no_place": "Nessun luogo",
        "prop_thanks_mail": "Riceverai la decisione dei redattori all'indirizzo e-mail che hai lasciato.",
        "prop_mail_new_subject": "[{calendar}] Nuova proposta: {title}",
        "prop_mail_new_body": "È arrivata una proposta per «{calendar}»:\n\n{title}\n{start}\n\nLeggila e decidi: {review}\n\nProposte in attesa: {pending}\n",
        "prop_mail_approved_subject": "[{calendar}] Proposta approvata: {title}",
        "prop_mail_approved_body": "Grazie! La tua proposta «{title}» è stata approvata ed è nel calendario:\n{link}\n",
        "prop_mail_rejected_subject": "[{calendar}] Proposta non accettata: {title}",
        "prop_mail_rejected_body": "La tua proposta «{title}» non è stata accettata dai redattori.\n",
        "prop_mail_reason": "Motivo: {reason}\n",
        "prop_mail_footer": "\n--\nMessaggio automatico di {calendar} ({site}): non rispondere a questo indirizzo.\n",
        "dates_cancel": "Annulla solo questa data",
        "dates_move": "Sposta questa data",
        "dates_restore": "Ripristina",
        "dates_moved": "spostata",
        "dates_move_title": "Sposta una data di «{title}»",
        "dates_original": "Data originale: {when}",
        "dates_new_start": "Nuovo inizio",
        "dates_new_end": "Nuova fine (facoltativa: altrimenti dura come le altre)",
        "dates_cancelled_done": "«{title}», {when}: data annullata.",
        "dates_moved_done": "«{title}», {when}: data spostata.",
        "dates_restored_done": "«{title}», {when}: data ripristinata.",
        "dates_nothing": "Questa data non era né annullata né spostata.",
        "dates_conflict": "L'evento è cambiato da quando hai aperto la pagina: eccolo com'è ora. Riprova.",
        "dates_bad": "Scrivi data e ora come AAAA-MM-GGTHH:MM.",
        "list_proposed": "Proposta",
        "list_confirmed": "Confermato",
        "list_proposals": "Proposte in attesa",
        "list_review": "apri la coda delle proposte",
        "prop_decided_title": "Proposte decise",
        "prop_decided_approved": "Approvata da {editor}: «{title}» (proposta da {proposer})",
        "prop_decided_rejected": "Rifiutata da {editor}: «{title}» (proposta da {proposer})",
        "prop_decided_reason": "Motivo: {reason}",
        "wc_bad_series": "series deve essere once o every, non {value!r}",
        "wc_snippet_help": "Oppure, senza iframe: questo codice mostra gli eventi dentro la tua pagina, con i caratteri e i colori del tuo sito (senza JavaScript resta il link).",
        "wc_preview": "Anteprima",
        "look_nav": "Sezioni del sito",
        "look_more_feeds": "Solo una categoria o un luogo",
        "look_upcoming_of": "I prossimi eventi di {name}.",
        "look_past_of": "Gli eventi passati di {name}.",
        "look_month_of": "Gli eventi di {name} in {month}.",
        "month_continued": "continua",
    },
    "en": {
        "upcoming": "Upcoming events",
        "past": "Past events",
        "no_events": "No upcoming events.",
        "no_past": "No past events.",
        "all_events": "All events",
        "filters": "Filter events",
        "category": "Category",
        "place": "Place",
        "any": "All",
        "apply": "Apply",
        "subscribe": "Subscribe to the calendar",
        "subscribe_help": "The calendar updates itself: subscribe once and new events keep appearing.",
        "apple": "Apple Calendar / iPhone",
        "google": "Google Calendar",
        "outlook": "Outlook.com",
        "office": "Microsoft 365",
        "feed_url": "Calendar address",
        "copy": "Copy",
        "embed": "Embed on your site",
        "embed_help": "Paste this code into your page to show the upcoming events.",
        "cancelled": "Cancelled",
        "tentative": "Tentative",
        "all_day": "all day",
        "map": "See on the map (OpenStreetMap)",
        "no_map": "Map not available",
        "online": "Watch online",
        "categories": "Categories",
        "attachments": "Documents",
        "download": "Download",
        "more_info": "More information",
        "organizer": "Organised by",
        "add_google": "Add to Google Calendar",
        "add_outlook": "Add to Outlook",
        "download_ics": "Download the event (.ics)",
        "next_dates": "Next dates",
        "when": "When",
        "where": "Where",
        "more": "All events on the site",
        "error": "Error",
        "error_text": "This request could not be answered.",
        "error_400": "Bad request",
        "error_400_text": "The request holds values the calendar does not accept.",
        "error_403": "Forbidden",
        "error_403_text": "This page may not be opened.",
        "error_404": "Page not found",
        "error_404_text": "This page does not exist: the address may be wrong, or the event was taken off the calendar.",
        "error_405": "Method not allowed",
        "error_405_text": "This address does not accept this kind of request.",
        "error_413": "Request too large",
        "error_413_text": "The request is larger than the calendar accepts.",
        "error_429": "Too many requests",
        "error_429_text": "Too many requests in a short time: try again later.",
        "error_500": "Server error",
        "error_500_text": "Something went wrong on our side: try again later.",
        "no_event": 'No event "{id}" in this calendar.',
        "no_category": 'No category "{slug}" in this calendar.',
        "no_place": 'No place "{slug}" in this calendar.',
        "no_month": "No page for this month: months go from 1900 to 2199.",
        "bad_day": "{name} must be a day written as YYYY-MM-DD (years 1900 to 2199), not {value!r}",
        "bad_limit": "limit must be a whole number from 1 to {maximum}, not {value!r}",
        "bad_range": "to ({last}) is before from ({first})",
        "bad_query": "The address holds characters that are not valid (bytes that are not UTF-8).",
        "qr_too_long": "Too many filters for one QR code: choose fewer.",
        "month": "Month calendar",
        "by_category": "Calendars by category",
        "by_place": "Calendars by place",
        "previous_month": "Previous month",
        "next_month": "Next month",
        "today": "today",
        "print": "Print",
        "qr_feed": "Scan the code to subscribe to the calendar",
        "qr_event": "Scan the code to open this page",
        "edit_title": "Edit the calendar",
        "edit_login": "Log in",
        "edit_login_help": "For the people who keep the calendar.",
        "edit_username": "User name",
        "edit_password": "Password",
        "edit_login_failed": "Wrong user name or password.",
        "edit_locked": "Too many failed attempts: try again in {minutes} minutes.",
        "edit_logout": "Log out",
        "edit_signed_in": "Logged in as {name}",
        "edit_events": "Events",
        "edit_new": "New event",
        "edit_search": "Search by title",
        "edit_search_button": "Search",
        "edit_show_past": "Show past events",
        "edit_show_upcoming": "Show upcoming events",
        "edit_no_match": "No events found.",
        "edit_recurring": "recurring",
        "edit_edit": "Edit",
        "edit_view": "See the public page",
        "edit_save": "Save",
        "edit_delete": "Delete",
        "edit_delete_title": "Delete “{title}”?",
        "edit_delete_help": "Subscribers will see the event vanish without a word. If the event will not take place, mark it “Cancelled” instead: it stays in the calendar, struck through, and whoever expected it knows.",
        "edit_cancel_instead": "Mark it cancelled (recommended)",
        "edit_delete_confirm": "Delete for good",
        "edit_back": "Back to the list",
        "edit_saved": "Saved: “{title}”.",
        "edit_unchanged": "Nothing changed to save.",
        "edit_deleted": "Deleted: “{title}”.",
        "edit_id": "Identifier: {id} (never changes)",
        "edit_kept": "Also kept as the file has them: {keys}.",
        "edit_refused": "The event was not saved: correct the fields marked below.",
        "edit_refused_elsewhere": "Problems in other parts of the file:",
        "edit_conflict_title": "The event changed in the meantime",
        "edit_conflict_help": "While you filled in the form, someone else changed this event (in the browser or by hand in the file). Nothing was saved. Compare the two versions: to keep yours press “Save” again; to start from the file's, reload the event.",
        "edit_conflict_deleted": "The event was deleted from the file in the meantime: saving creates it again as a new event.",
        "edit_in_file": "In the file now",
        "edit_yours": "Your version",
        "edit_field": "Field",
        "edit_reload": "Reload the event from the file",
        "edit_bad_when": "Write a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM).",
        "edit_bad_dates": "One date a line: YYYY-MM-DD or YYYY-MM-DDTHH:MM.",
        "edit_csrf": "The form has expired or does not come from this page: go back, reload the page and try again.",
        "edit_none": "— none —",
        "edit_confirmed": "Confirmed",
        "edit_duplicate": "Duplicate",
        "edit_copy": "{title} (copy)",
        "edit_cancel_event": "Cancel event",
        "edit_restore_event": "Restore",
        "edit_status_cancelled": "Marked as cancelled: “{title}”.",
        "edit_status_confirmed": "Restored: “{title}”.",
        "edit_preview": "Preview",
        "edit_preview_note": "Preview: nothing was saved. Press “Save” to publish.",
        "edit_next_dates": "Next dates, as the calendar will have them",
        "edit_no_next_dates": "No dates to come.",
        "edit_pick_exdates": "Tick the dates to leave out of the series.",
        "edit_weekly": "Repeat every week on",
        "edit_weekly_until": "until (included; empty: no end)",
        "edit_bad_until": "Write the end date as YYYY-MM-DD.",
        "edit_rule_raw_wins": "The rule written by hand differs from the ticked days: the rule written by hand was used ({rule}).",
        "edit_rule_date_cancelled": "cancelled",
        "edit_history": "History",
        "edit_history_help": "The latest changes to the file, newest first. “Undo” writes the opposite change as a new change.",
        "edit_no_history": "No changes recorded yet.",
        "edit_undo": "Undo",
        "edit_undone": "Undone: “{title}”.",
        "edit_no_change": "No change with this reference.",
        "edit_undo_conflict": "Not undone: the event changed in the meantime. Nothing was written. Here are both versions.",
        "edit_undo_impossible": "Not undone: the lines around this change have changed in the meantime. Nothing was written: correct the event in its form.",
        "edit_undo_would": "As undoing would make it",
        "edit_by": "by {author}",
        "f_title": "Title",
        "f_start": "Start",
        "f_end": "End",
        "f_all_day": "All day (for several days, the end is the last day)",
        "f_duration": "Or duration (e.g. PT2H for two hours), instead of the end",
        "f_place": "Place (from the list of places)",
        "f_location": "Or a place written by hand (address, “online”…)",
        "f_categories": "Categories",
        "f_new_categories": "Other categories, separated by commas",
        "f_description": "Description",
        "f_url": "The event's page on another site (link)",
        "f_online": "Links to watch online (one a line)",
        "f_attachments": "Documents to download (one link a line)",
        "f_image": "Poster (link to an image)",
        "f_status": "Status",
        "f_rrule": "Or the full rule (an RRULE, e.g. FREQ=MONTHLY;BYDAY=1SA); when written, it wins",
        "f_exdates": "Dates left out of the series (one a line)",
        "next_date": "Next date",
        "feed_rss": "Upcoming events (RSS)",
        "feed_atom": "Upcoming events (Atom)",
        "list_repeats": "repeats",
        "list_rule": "Repeats",
        # Import from the browser (/edit/import).
        "import_title": "Import a calendar",
        "import_help": "Paste a calendar's address (.ics) or upload an .ics file: you first see which events would be added and what would be left out; nothing is written until you confirm. Events already in the calendar (same UID) stay as they are.",
        "import_url": "The calendar's address (https://…)",
        "import_file": "Or an .ics file (at most {limit} MB)",
        "import_preview": "Show the preview",
        "import_confirm": "Import these events",
        "import_cancel": "Never mind",
        "import_choose": "Paste an address or choose an .ics file.",
        "import_both": "Paste an address or choose a file, not both.",
        "import_only_web": "Only addresses starting with http:// or https://.",
        "import_failed": "The import failed: nothing was written.",
        "import_private": "{host} is an address of a private network or of this server ({address}): from here, calendars are imported from public internet addresses only.",
        "import_too_large": "The calendar is over {limit} MB: is it really a calendar?",
        "import_not_icalendar": "This is not an iCalendar (.ics) calendar: the file should start with BEGIN:VCALENDAR. A web page, or the wrong address?",
        "import_cut_short": "The calendar is cut short (no END:VCALENDAR): download it again.",
        "import_webcal": "This is a subscription link: import its https address, {https}",
        "import_timeout": "The download took over {seconds} seconds: try again, or save the file and upload it.",
        "import_http_status": "The server answered with error {status}.",
        "import_unknown_host": "There is no host called {host} (check the address).",
        "import_file_has_errors": "events.toml has errors: fix them before importing.",
        "import_nothing_new": "Nothing to add: every event of {source} is in the calendar already (or was left out, see below).",
        "import_will_add": "{count} events from {source} would be added:",
        "import_report": "The import's report (as “calfeed import --merge” writes it)",
        "import_preview_note": "Preview: nothing was written. Press “Import these events” to add them to the calendar.",
        "import_changed": "The calendar changed after the preview (another change meanwhile): nothing was imported. Preview again.",
        "import_expired": "This preview is gone (expired, or imported already): preview again.",
        "import_done": "Imported {count} events from {source}.",
        "import_commit": "Imported {count} events from {source}",
        "place_places": "Places",
        "place_settings": "Calendar settings",
        "place_none": "No places yet.",
        "place_slug": "Identifier: {slug} (never changes)",
        "place_uses": "events using it: {count}",
        "place_new": "New place",
        "place_new_help": "The place's identifier is made from its name and never changes, even when the name does.",
        "place_add": "Add the place",
        "place_f_name": "Name",
        "place_f_address": "Address",
        "place_f_geo": "Position on the map (optional; both or neither)",
        "place_f_lat": "Latitude (e.g. 45.0907)",
        "place_f_lon": "Longitude (e.g. 7.6913)",
        "place_f_url": "The place's website (link)",
        "place_bad_geo": "Write latitude and longitude as numbers (e.g. 45.0907 and 7.6913), or leave both empty.",
        "place_bad_past_days": "Write a whole number of days, or leave it empty to keep every event.",
        "place_refused": "Not saved: correct the fields marked below. Nothing was written.",
        "place_added": "Added the place “{name}”.",
        "place_saved": "Saved the place “{name}”.",
        "place_deleted": "Deleted the place “{name}”.",
        "place_settings_saved": "Calendar settings saved.",
        "place_conflict_title": "It changed in the meantime",
        "place_conflict_help": "While you filled in the form, someone else changed this part of the file. Nothing was saved. To keep your version press “Save” again; to start from the file's, reload the page.",
        "place_feed": "Calendar of the events at this place",
        "place_back": "Back to the places",
        "place_back_to_place": "Back to the place",
        "place_used_by": "Events at this place",
        "place_delete_title": "Delete the place “{name}”?",
        "place_delete_help": "No event uses this place: it can be deleted.",
        "place_in_use": "The place cannot be deleted: these events use it. Change their place first.",
        "place_s_name": "The calendar's name",
        "place_s_description": "Description",
        "place_s_timezone": "Time zone (e.g. Europe/Rome)",
        "place_s_language": "Language of the pages",
        "place_s_refresh": "How often subscribed calendars refresh (e.g. PT6H for six hours)",
        "place_s_past_days": "Drop events that ended more than this many days ago (empty: keep them all)",
        "place_s_base_url": "The site's public address (base_url)",
        "place_base_url_fixed": "Set by CALFEED_BASE_URL on the server: it cannot be changed here.",
        "place_default": "— default —",
        "place_language_it": "Italian",
        "place_language_en": "English",
        "place_by_hand": "Not saved: in the file this part is not written as a table of its own ([places.<slug>] or [calendar]), so it must be edited by hand. Nothing was written.",
        "prop_link": "Propose an event",
        "prop_title": "Propose an event",
        "prop_intro": "Anyone may propose an event. An editor reads it before it is published: until it is approved it appears nowhere.",
        "prop_email": "Your e-mail (for the editors only, never published)",
        "prop_honeypot": "Leave this field empty",
        "prop_send": "Send the proposal",
        "prop_refused": "The proposal was not sent: correct the fields marked.",
        "prop_try_later": "Too many proposals right now: try again later.",
        "prop_closed": "Proposals are closed right now: try again later.",
        "prop_expired": "The form was open too long: check the fields and send it again.",
        "prop_too_long": "Too long: make it shorter.",
        "prop_control": "Contains characters that are not allowed.",
        "prop_html": "No HTML: plain text only (the link goes in its own field).",
        "prop_bad_email": "A valid e-mail address is needed, so the editors can answer.",
        "prop_categories": "Choose from the categories listed (at most 5).",
        "prop_place": "Choose a place from the list, or write it in the field below.",
        "prop_required": "Required.",
        "prop_past": "This date has passed.",
        "prop_thanks_title": "Thank you for your proposal!",
        "prop_thanks_text": "An editor will read it soon. If they approve it, the event will appear on the site and in the calendar; otherwise it will not be published. If something needs clearing up, they may write to the address you gave.",
        "prop_thanks_follow": "To see the approved events, subscribe to the calendar from the home page: it updates itself.",
        "prop_another": "Propose another event",
        "prop_queue": "Proposals",
        "prop_queue_title": "Proposals to approve",
        "prop_queue_empty": "No proposals waiting.",
        "prop_received": "Received {time} from {email}",
        "prop_approve": "Approve",
        "prop_approve_edited": "Approve with these changes",
        "prop_review": "Check and change",
        "prop_reject": "Reject",
        "prop_reason": "Reason for rejecting (optional)",
        "prop_approved": "Approved: “{title}” is in the calendar ({id}).",
        "prop_rejected": "Rejected: “{title}”.",
        "prop_gone": "This proposal is no longer waiting: it has been decided already.",
        "prop_commit": "Approved: {title} (proposed by {contact})",
        "prop_no_place": "No place",
        "prop_thanks_mail": "You will receive the editors' decision at the e-mail address you gave.",
        "prop_mail_new_subject": "[{calendar}] New proposal: {title}",
        "prop_mail_new_body": "A proposal arrived for \u201c{calendar}\u201d:\n\n{title}\n{start}\n\nRead it and decide: {review}\n\nProposals waiting: {pending}\n",
        "prop_mail_approved_subject": "[{calendar}] Proposal approved: {title}",
        "prop_mail_approved_body": "Thank you! Your proposal \u201c{title}\u201d was approved and is in the calendar:\n{link}\n",
        "prop_mail_rejected_subject": "[{calendar}] Proposal not accepted: {title}",
        "prop_mail_rejected_body": "Your proposal \u201c{title}\u201d was not accepted by the editors.\n",
        "prop_mail_reason": "Reason: {reason}\n",
        "prop_mail_footer": "\n--\nAn automatic message from {calendar} ({site}): do not reply to this address.\n",
        "dates_cancel": "Cancel only this date",
        "dates_move": "Move this date",
        "dates_restore": "Restore",
        "dates_moved": "moved",
        "dates_move_title": "Move one date of “{title}”",
        "dates_original": "Original date: {when}",
        "dates_new_start": "New start",
        "dates_new_end": "New end (optional: otherwise as long as the others)",
        "dates_cancelled_done": "“{title}”, {when}: date cancelled.",
        "dates_moved_done": "“{title}”, {when}: date moved.",
        "dates_restored_done": "“{title}”, {when}: date restored.",
        "dates_nothing": "This date was neither cancelled nor moved.",
        "dates_conflict": "The event changed since you opened the page: here it is as it is now. Try again.",
        "dates_bad": "Write date and time as YYYY-MM-DDTHH:MM.",
        "list_proposed": "Proposed",
        "list_confirmed": "Confirmed",
        "list_proposals": "Proposals waiting",
        "list_review": "open the proposals queue",
        "prop_decided_title": "Decided proposals",
        "prop_decided_approved": "Approved by {editor}: “{title}” (proposed by {proposer})",
        "prop_decided_rejected": "Rejected by {editor}: “{title}” (proposed by {proposer})",
        "prop_decided_reason": "Reason: {reason}",
        "wc_bad_series": "series must be once or every, not {value!r}",
        "wc_snippet_help": "Or, without an iframe: this code shows the events inside your page, in your site's fonts and colours (without JavaScript the link stays).",
        "wc_preview": "Preview",
        "look_nav": "Site sections",
        "look_more_feeds": "Only one category or place",
        "look_upcoming_of": "Upcoming events of {name}.",
        "look_past_of": "Past events of {name}.",
        "look_month_of": "Events of {name} in {month}.",
        "month_continued": "continued",
    },
}


def strings(language: str) -> dict[str, str]:
    return STRINGS.get(language, STRINGS["it"])


def message(language: str, key: str, **blanks: object) -> str:
    """A string of the table with its blanks filled in.

    >>> message("it", "no_event", id="festa"), message("en", "bad_limit", maximum=500, value="x")
    ('Nessun evento "festa" in questo calendario.', "limit must be a whole number from 1 to 500, not 'x'")
    """
    return strings(language)[key].format(**blanks)


def error_texts(language: str, status: int) -> tuple[str, str]:
    """The title and text of the error page for an HTTP status.

    >>> error_texts("it", 404)[0], error_texts("en", 418)[0]
    ('Pagina non trovata', 'Error')
    """
    table = strings(language)
    return table.get(f"error_{status}", table["error"]), table.get(f"error_{status}_text", table["error_text"])


@lru_cache(maxsize=8192)  # a site has a few thousand days, and Babel takes ~50 µs a date
def long_date(day: date, language: str) -> str:
    """A day as people write it, capitalised as at the start of a line.

    >>> long_date(date(2021, 12, 1), "it"), long_date(date(2021, 12, 1), "en")
    ('Mercoledì 1 dicembre 2021', 'Wednesday 1 December 2021')
    """
    text = format_date(day, "EEEE d MMMM y", locale=language)
    return text[:1].upper() + text[1:]


def clock(moment: datetime, language: str) -> str:
    """The wall-clock time of ``moment`` (in its own zone), as "18:00"."""
    return _clock(moment.hour, moment.minute, language)


@lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, language: str) -> str:
    return format_time(time(hour, minute), "HH:mm", locale=language)


def when(occurrence: Occurrence, zone: tzinfo, language: str) -> str:
    """An occurrence's date and time, in the calendar's zone.

    >>> from calfeed.timezones import zone as z
    >>> from calfeed.model import Event
    >>> rome = z("Europe/Rome")
    >>> start, end = datetime(2021, 12, 1, 18, tzinfo=rome), datetime(2021, 12, 1, 19, 30, tzinfo=rome)
    >>> when(Occurrence(Event("a", "a@x", "A", start, end), start, end), rome, "it")
    'Mercoledì 1 dicembre 2021, 18:00–19:30'
    """
    start, end = occurrence.start, occurrence.end
    if not isinstance(start, datetime):
        last = last_day_of(occurrence, zone)
        if last == start:
            return long_date(start, language)
        return f"{long_date(start, language)} – {long_date(last, language)}"
    start = start.astimezone(zone)
    text = f"{long_date(start.date(), language)}, {clock(start, language)}"
    if end is None:
        return text
    end = end.astimezone(zone)
    if end.date() == start.date():
        return f"{text}–{clock(end, language)}"
    return f"{text} – {long_date(end.date(), language)}, {clock(end, language)}"


def hours(occurrence: Occurrence, zone: tzinfo, language: str) -> str:
    """The time part of ``when`` for a list grouped by day: "18:00–19:30"."""
    full = when(occurrence, zone, language)
    start = occurrence.start
    if not isinstance(start, datetime):
        return strings(language)["all_day"]
    prefix = f"{long_date(start.astimezone(zone).date(), language)}, "
    return full.removeprefix(prefix)


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_REPEATS = {
    "it": {
        "daily": "ogni giorno", "daily_n": "ogni {n} giorni",
        "weekly": "ogni {days}", "weekly_n": "di {days}, ogni {n} settimane",
        "monthly": "il giorno {day} di ogni mese", "monthly_n": "il giorno {day}, ogni {n} mesi",
        "nth": "{nth} del mese", "nth_n": "{nth}, ogni {n} mesi",
        "yearly": "ogni anno, {the}{day}", "yearly_n": "ogni {n} anni, {the}{day}",
        "the": "il ", "the_vowel": "l'",
        "until": "fino al {day}", "until_vowel": "fino all'{day}",
    },
    "en": {
        "daily": "every day", "daily_n": "every {n} days",
        "weekly": "every {days}", "weekly_n": "every {n} weeks on {days}",
        "monthly": "every month on day {day}", "monthly_n": "every {n} months on day {day}",
        "nth": "the {nth} of every month", "nth_n": "the {nth}, every {n} months",
        "yearly": "every year on {day}", "yearly_n": "every {n} years on {day}",
        "the": "", "the_vowel": "",
        "until": "until {day}", "until_vowel": "until {day}",
    },
}
# "The first Saturday" of a month: Italian ordinals agree with the day (domenica is feminine).
_ORDINALS = {
    "it": {1: ("il primo", "la prima"), 2: ("il secondo", "la seconda"), 3: ("il terzo", "la terza"),
           4: ("il quarto", "la quarta"), 5: ("il quinto", "la quinta"), -1: ("l'ultimo", "l'ultima")},
    "en": {1: ("first",) * 2, 2: ("second",) * 2, 3: ("third",) * 2, 4: ("fourth",) * 2, 5: ("fifth",) * 2, -1: ("last",) * 2},
}
_NTH = re.compile(r"^(?P<n>[+]?[1-5]|-1)(?P<day>MO|TU|WE|TH|FR|SA|SU)$")


def _pattern(event: Event, parts: dict[str, str], language: str) -> str | None:
    """The rule's pattern in words ("ogni mercoledì"); None for a rule with
    parts these phrases cannot say (BYSETPOS, BYMONTH, several month days...)."""
    table = _REPEATS.get(language, _REPEATS["it"])
    frequency, interval = parts.pop("FREQ"), parts.pop("INTERVAL", "1")
    if not interval.isdigit() or int(interval) < 1:
        return None
    key = "_n" if interval != "1" else ""
    day_names = get_day_names("wide", locale=language)
    start = event.start
    if frequency == "DAILY" and not parts:
        return table["daily" + key].format(n=interval)
    if frequency == "WEEKLY" and not parts.keys() - {"BYDAY"}:
        codes = parts.get("BYDAY", _WEEKDAYS[start.weekday()]).split(",")
        if not all(code in _WEEKDAYS for code in codes):
            return None
        days = [day_names[_WEEKDAYS.index(code)] for code in sorted(set(codes), key=_WEEKDAYS.index)]
        return table["weekly" + key].format(days=format_list(days, locale=language), n=interval)
    if frequency == "MONTHLY" and not parts:
        return table["monthly" + key].format(day=start.day, n=interval)
    if frequency == "MONTHLY" and parts.keys() == {"BYMONTHDAY"} and parts["BYMONTHDAY"] in map(str, range(1, 32)):
        return table["monthly" + key].format(day=parts["BYMONTHDAY"], n=interval)
    match = _NTH.match(parts.get("BYDAY", "")) if frequency == "MONTHLY" and parts.keys() == {"BYDAY"} else None
    if match:
        weekday = _WEEKDAYS.index(match["day"])
        ordinal = _ORDINALS.get(language, _ORDINALS["it"])[int(match["n"])][weekday == 6]
        return table["nth" + key].format(nth=f"{ordinal} {day_names[weekday]}", n=interval)
    if frequency == "YEARLY" and not parts:
        the = table["the_vowel" if start.day in (8, 11) else "the"]  # l'8, l'11
        return table["yearly" + key].format(day=format_date(start, "d MMMM", locale=language), n=interval, the=the)
    return None


def _series_hours(event: Event, zone: tzinfo, language: str) -> str | None:
    """The time of day of a timed series, "17:00–19:00", in the rule's own
    zone (named when it is not the calendar's); None for an all-day one."""
    start = event.start
    if not isinstance(start, datetime):
        return None
    text = clock(start, language)
    if event.end is not None and timedelta(0) < event.end - start < timedelta(days=1):
        text += "–" + clock(event.end.astimezone(start.tzinfo), language)
    if getattr(start.tzinfo, "key", None) != getattr(zone, "key", None):
        text += f" ({getattr(start.tzinfo, 'key', start.tzinfo)})"
    return text


def rule_words(event: Event, zone: tzinfo, language: str) -> str | None:
    """How a series repeats, in words: the pattern (daily, weekly on plain
    days, monthly on a day or a numbered weekday, yearly, each with an
    interval), the time of day, and the last day (UNTIL, or the last date
    when COUNT ends it); None for any other rule, which lists then show as
    repeating, with their next date.

    >>> from calfeed.timezones import zone as z
    >>> from calfeed.model import Recurrence
    >>> from calfeed.rrules import parse_rule
    >>> from calfeed.timezones import UTC
    >>> rome = z("Europe/Rome")
    >>> rule = parse_rule("FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=2022-06-29")
    >>> start, end = datetime(2022, 1, 12, 17, tzinfo=rome), datetime(2022, 1, 12, 19, tzinfo=rome)
    >>> series = Event("s", "s@x", "S", start, end, recurrence=Recurrence(rule, datetime(2022, 6, 29, 21, 59, 59, tzinfo=UTC)))
    >>> rule_words(series, rome, "it"), rule_words(series, rome, "en")
    ('ogni lunedì e mercoledì, 17:00–19:00, fino al 29 giugno 2022', 'every Monday and Wednesday, 17:00–19:00, until 29 June 2022')
    >>> rule_words(Event("s", "s@x", "S", start, recurrence=Recurrence(parse_rule("FREQ=MONTHLY;BYDAY=-1SU"))), rome, "it")
    "l'ultima domenica del mese, 17:00"
    >>> rule_words(Event("s", "s@x", "S", start, recurrence=Recurrence(parse_rule("FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO,TU"))), rome, "it")
    """
    recurrence = event.recurrence
    if recurrence is None or recurrence.rule is None:
        return None
    parts = dict(recurrence.rule.parts)
    parts.pop("WKST", None)
    counted = parts.pop("COUNT", None) is not None
    text = _pattern(event, parts, language)
    if text is None:
        return None
    table = _REPEATS.get(language, _REPEATS["it"])
    time_of_day = _series_hours(event, zone, language)
    if time_of_day:
        text += ", " + time_of_day
    until = recurrence.until
    if until is not None:
        last = local_day(until, zone)
    else:
        last = last_day(event, zone) if counted else None
    if last is not None:
        day = format_date(last, "d MMMM y", locale=language)
        text += ", " + table["until_vowel" if last.day in (8, 11) else "until"].format(day=day)
    return text


def weekdays(language: str) -> list[str]:
    """The names of the days, Monday first.

    >>> weekdays("it")[:2], weekdays("en")[6]
    (['lunedì', 'martedì'], 'Sunday')
    """
    names = get_day_names("wide", locale=language)
    return [names[day] for day in range(7)]
