"""The models of 帮扶, one module per area: measures (the catalogue, measures, evidence, M8 exceptions, closing
risk points), funds (资金), consumption assistance (消费帮扶) and the contacts of the 帮扶责任人/联系人 (联系记录)."""

from .consumption import Product, Sale
from .contacts import ContactRecord
from .funds import Fund, FundEntry, FundRequest
from .measures import MONEY, Measure, MeasureEvidence, MeasureType, PolicyException, RiskClosure

__all__ = [
    "MONEY",
    "ContactRecord",
    "Fund",
    "FundEntry",
    "FundRequest",
    "Measure",
    "MeasureEvidence",
    "MeasureType",
    "PolicyException",
    "Product",
    "RiskClosure",
    "Sale",
]
