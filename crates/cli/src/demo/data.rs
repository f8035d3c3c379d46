//! The demo company's vocabulary: names, places, catalogue and feedback themes.

// Tables are compact text, split once into [`Tables`]: `|` separates fields, `,` list items.
pub(super) const FIRST: &str = "Anna,Ben,Clara,David,Emma,Felix,Greta,Hugo,Ines,Jonas,Katrin,Luca,Maria,Noah,Olivia,Paul,Rosa,Sami,Tara,Victor,Zoe,Liam";
pub(super) const LAST: &str = "Müller,Schmidt,Martin,Bernard,Smith,Jones,García,Rossi,Jansen,Nowak,Silva,Murphy,Andersson,Dubois,Weber,Taylor,López,Bianchi";
/// country | weight | dialling code | cities
pub(super) const COUNTRIES: &str = "\
Germany|18|+49|Berlin,Munich,Hamburg,Cologne
France|14|+33|Paris,Lyon,Marseille,Toulouse
United Kingdom|14|+44|London,Manchester,Leeds,Bristol
Spain|9|+34|Madrid,Barcelona,Valencia,Seville
Italy|9|+39|Rome,Milan,Turin,Naples
Netherlands|8|+31|Amsterdam,Rotterdam,Utrecht
Poland|6|+48|Warsaw,Krakow,Wroclaw
Portugal|6|+351|Lisbon,Porto,Braga
Sweden|5|+46|Stockholm,Gothenburg,Malmo
Belgium|4|+32|Brussels,Antwerp,Ghent
Austria|4|+43|Vienna,Graz,Salzburg
Ireland|3|+353|Dublin,Cork,Galway";
/// category | sku prefix | lowest and highest price in euros | product nouns
pub(super) const CATALOGUE: &str = "\
Electronics|EL|20|400|Headphones,Speaker,Charger,Keyboard,Mouse,Webcam,Monitor Arm,Power Bank
Home|HO|8|150|Lamp,Cushion,Blanket,Vase,Mug Set,Candle,Wall Clock,Rug
Apparel|AP|15|180|T-Shirt,Hoodie,Jacket,Sneakers,Scarf,Cap,Backpack,Socks
Office|OF|3|90|Notebook,Pen Set,Desk Organiser,Planner,Stapler,Whiteboard,Sticky Notes,Folder
Outdoor|OU|10|250|Water Bottle,Tent,Headlamp,Hiking Poles,Camping Stove,Sleeping Bag,Daypack,Rain Jacket";
/// theme | support subject | two positive sentences | two negative sentences. The last four
/// themes are product features (app-store feedback talks about those).
pub(super) const THEMES: &str = "\
delivery|Where is my delivery?|Delivery was fast and the parcel arrived in perfect condition.|Arrived a day early, great delivery service.|My delivery was late again and the tracking never updated.|The package arrived damaged and two weeks late.
price|Question about my invoice|Great value for money, the price is very fair.|Prices are reasonable and the discounts are generous.|Far too expensive for what you get.|The price increase is outrageous, I am considering cancelling.
quality|Product quality issue|Excellent quality, it feels solid and well made.|Superb build quality, it still looks brand new.|Poor quality, it broke after a week.|Cheap materials and terrible quality, it fell apart.
support|Following up on my ticket|Support was friendly and solved my problem in minutes.|Amazing support team, quick and helpful.|Support never answered my ticket, terrible service.|Support was rude and useless, I waited days for a reply.
export|Export not working|The export feature is brilliant, CSV and PDF exports just work.|Love how easy it is to export reports.|Export keeps failing and the exported file is missing columns.|The export is broken, I cannot download my reports.
dashboard|Dashboard question|I love the dashboard, it gives a clear overview at a glance.|The new dashboard is fantastic and fast.|The dashboard is slow and confusing, it takes ages to load.|The dashboard shows wrong numbers, very frustrating.
mobile app|Mobile app problem|The mobile app is smooth and easy to use on the go.|Great mobile app, I use it every day.|The mobile app crashes constantly and logs me out.|The mobile app is buggy and painfully slow.
integrations|Integration setup help|The integrations with Slack and Salesforce save us hours every week.|Connecting our tools was effortless, great integrations.|The integrations are broken, the Salesforce sync stopped working.|The Slack integration keeps disconnecting, awful.";
pub(super) const INDUSTRIES: &[&str] = &[
    "Retail",
    "Software",
    "Logistics",
    "Healthcare",
    "Finance",
    "Manufacturing",
    "Education",
    "Hospitality",
    "Media",
    "Construction",
];
pub(super) const SIZES: &[&str] = &["1-10", "11-50", "51-200", "201-500", "501-1000"];
pub(super) const CO_PREFIX: &[&str] = &[
    "North", "Blue", "Bright", "Iron", "Silver", "Green", "Swift", "Summit", "Harbor", "Nova",
    "Alpine", "Oak",
];
pub(super) const CO_SUFFIX: &[&str] =
    &["wind", "stone", "path", "field", "works", "line", "peak", "gate", "bridge", "leaf"];
pub(super) const VARIANTS: &[&str] =
    &["Classic", "Pro", "Eco", "Lite", "Premium", "Travel", "Studio"];
pub(super) const POS_TAIL: &[&str] =
    &["Highly recommended!", "Keep up the good work.", "Very happy.", ""];
pub(super) const NEG_TAIL: &[&str] =
    &["Very disappointed.", "Please fix this.", "I expected better.", ""];
pub(super) const CLOSERS: &[&str] =
    &["Thanks in advance.", "Please get back to me soon.", "Kind regards.", ""];

pub(super) struct Theme {
    pub(super) ask: &'static str,
    pub(super) pos: [&'static str; 2],
    pub(super) neg: [&'static str; 2],
}

/// The text tables, split once.
pub(super) struct Tables {
    pub(super) first: Vec<&'static str>,
    pub(super) last: Vec<&'static str>,
    pub(super) countries: Vec<Vec<&'static str>>,
    pub(super) country_weights: Vec<u32>,
    pub(super) themes: Vec<Theme>,
}

pub(super) fn list(s: &'static str) -> Vec<&'static str> {
    s.split(',').collect()
}

impl Tables {
    pub(super) fn new() -> Tables {
        let countries: Vec<Vec<&str>> = COUNTRIES.lines().map(|l| l.split('|').collect()).collect();
        let themes = THEMES.lines().map(|l| l.split('|').collect::<Vec<_>>());
        Tables {
            first: list(FIRST),
            last: list(LAST),
            country_weights: countries.iter().map(|c| c[1].parse().expect("weight")).collect(),
            countries,
            themes: themes
                .map(|f| Theme { ask: f[1], pos: [f[2], f[3]], neg: [f[4], f[5]] })
                .collect(),
        }
    }
}
