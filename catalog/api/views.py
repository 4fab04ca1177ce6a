"""Products API: list (filters, pagination) and detail; thin views over catalog.selectors."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import PageNumberPagination

from catalog.api.serializers import ProductCardSerializer, ProductDetailSerializer, ProductFilterSerializer
from catalog.models import Product
from catalog.selectors import product_get, product_list


class ProductPagination(PageNumberPagination):
    """Page numbers; ?page_size= up to 100 (default from settings)."""

    page_size_query_param = "page_size"
    max_page_size = 100


@extend_schema(
    parameters=[ProductFilterSerializer],
    tags=["products"],
    responses={
        200: ProductCardSerializer(many=True),
        400: OpenApiResponse(description='Invalid filter: {"<field>": ["<message>"]}.'),
        404: OpenApiResponse(description="Page out of range or not a number."),
    },
)
class ProductListView(ListAPIView):
    """Active products, filtered by exact attributes (case-insensitive) and name words, paginated."""

    serializer_class = ProductCardSerializer
    pagination_class = ProductPagination

    def get_queryset(self):
        filters = ProductFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return product_list(filters=filters.validated_data)


@extend_schema(
    tags=["products"],
    responses={200: ProductDetailSerializer, 404: OpenApiResponse(description="Unknown or inactive product.")},
)
class ProductDetailView(RetrieveAPIView):
    """One active product by its internal id, with attributes."""

    serializer_class = ProductDetailSerializer
    queryset = Product.objects.none()  # for the schema; objects come from product_get

    def get_object(self) -> Product:
        try:
            return product_get(product_id=self.kwargs["pk"])
        except Product.DoesNotExist:
            raise Http404("No active product with this id.") from None
